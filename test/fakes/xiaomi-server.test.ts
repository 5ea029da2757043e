import { request } from 'node:https';
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeXiaomi, startFakeXiaomi } from './xiaomi-server.js';

/** A raw request to the fake, as a client other than Bellhop's adapter would make it. */
async function post(fake: FakeXiaomi, path: string, headers: Record<string, string>, body: string) {
  return new Promise<{ status: number; body: Record<string, unknown> | string }>((resolve, reject) => {
    const req = request(`${fake.url}${path}`, { method: 'POST', ca: fake.ca, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: Record<string, unknown> | string = text;
        try {
          parsed = JSON.parse(text) as Record<string, unknown>;
        } catch {
          // an HTML page
        }
        resolve({ status: response.statusCode ?? 0, body: parsed });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('the fake MiPush', () => {
  let fake: FakeXiaomi;
  afterEach(async () => {
    await fake.close();
  });

  const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
  const valid = (overrides: Record<string, string> = {}) =>
    form({
      registration_id: 'a,b',
      restricted_package_name: fake.credentials().package_name,
      pass_through: '0',
      title: 'Door',
      description: 'Ring',
      payload: '{}',
      'extra.channel_id': fake.credentials().message_channel_id,
      ...overrides,
    });
  const headers = () => ({
    authorization: `key=${fake.credentials().app_secret}`,
    'content-type': 'application/x-www-form-urlencoded;charset=UTF-8',
  });

  it('answers like MiPush: success with a message id, errors with a code, HTTP 200 either way', async () => {
    fake = await startFakeXiaomi();
    const ok = await post(fake, '/v3/message/regid', headers(), valid());
    expect(ok).toMatchObject({
      status: 200,
      body: {
        result: 'ok',
        code: 0,
        data: { id: expect.any(String) },
        info: 'Received push messages for 2 REGID',
      },
    });
    const wrongSecret = await post(
      fake,
      '/v3/message/regid',
      { ...headers(), authorization: 'key=nope' },
      valid(),
    );
    expect(wrongSecret).toMatchObject({
      status: 200,
      body: { result: 'error', code: 21301, reason: 'Invalid application secret.' },
    });
    const json = await post(
      fake,
      '/v3/message/regid',
      { ...headers(), 'content-type': 'application/json' },
      '{}',
    );
    expect(json.body).toMatchObject({ code: 10016 });
    expect((await post(fake, '/v3/message/regid', headers(), valid({ title: '' }))).body).toMatchObject({
      code: 65011,
      reason: 'Title or Description is empty!',
    });
    expect(
      (await post(fake, '/v3/message/regid', headers(), valid({ time_to_live: '30s' }))).body,
    ).toMatchObject({
      code: 10017,
    });
    expect(
      (await post(fake, '/v3/message/regid', headers(), valid({ 'extra.channel_id': 'other' }))).body,
    ).toMatchObject({ code: 27001 });
    expect((await post(fake, '/v2/message/regid', headers(), valid())).status).toBe(404);
    expect(fake.received.map((entry) => [entry.path, entry.code])).toEqual([
      ['/v3/message/regid', 0],
      ['/v3/message/regid', 21301],
      ['/v3/message/regid', 10016],
      ['/v3/message/regid', 65011],
      ['/v3/message/regid', 10017],
      ['/v3/message/regid', 27001],
      ['/v2/message/regid', undefined],
    ]);
  });

  it('lists scripted regIds in data.bad_regids, and answers 20301 when none is left', async () => {
    fake = await startFakeXiaomi();
    fake.script('b', 'bad_regid');
    expect((await post(fake, '/v3/message/regid', headers(), valid())).body).toMatchObject({
      code: 0,
      data: { bad_regids: 'b' },
    });
    fake.script('a', 'bad_regid');
    expect((await post(fake, '/v3/message/regid', headers(), valid())).body).toMatchObject({
      code: 20301,
      reason: 'No valid targets!',
    });
  });

  it('serves every region under its name, and counts without recording when asked (benchmarks)', async () => {
    fake = await startFakeXiaomi({ record: false });
    const europe = new URL(fake.regionUrls().europe);
    expect(europe.pathname).toBe('/europe');
    expect((await post(fake, '/europe/v3/message/regid', headers(), valid())).body).toMatchObject({
      code: 0,
    });
    expect(
      (await post(fake, '/v3/message/regid', headers(), valid({ registration_id: 'x' }))).body,
    ).toMatchObject({
      code: 0,
    });
    expect(fake.received).toEqual([]);
    expect(fake.requestCount).toBe(2);
    expect(fake.regIdCount).toBe(3);
  });
});
