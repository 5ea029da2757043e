import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, json, registerUser, type TestApp, testDialects } from '../helpers/app.js';

interface Row {
  seq: number;
  id: number;
  push_token: string;
  language: string;
  dev: number;
  bundleid: string;
  os: string;
  os_token: string;
  push_platform: string;
  phone_model: string;
  provider: string;
}

const channels = [
  { name: 'ring', url: '/v1/api/user/token' },
  { name: 'message', url: '/v1/api/user/message/token' },
] as const;

describe.each(testDialects())('push-token registry on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect, {
      MAX_REGISTRATIONS_PER_CHANNEL: '3',
      DEFAULT_BUNDLEID: 'com.example.doorbell',
    });
  });
  afterAll(async () => t.close());

  const post = (url: string, token: string, payload: Record<string, unknown>) =>
    t.app.inject({ method: 'POST', url, headers: { token }, payload });
  const list = async (url: string, token: string) =>
    json<Row[]>(await t.app.inject({ method: 'GET', url, headers: { token } }));
  const dbRows = (userId: number) =>
    t.database.handle.db
      .selectFrom('registrations')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('seq')
      .execute();

  it.each(channels)('replays the manual’s example body as written ($name)', async ({ url }) => {
    const user = await registerUser(t.app);
    const response = await t.app.inject({
      method: 'POST',
      url,
      headers: { accept: 'application/json', 'content-type': 'application/json', token: user.token },
      payload:
        '{"push_token":"string","language":"string","id":0,"dev":0,"bundleid":"string","os":"string","os_token":"string","push_platform":"string"}',
    });
    expect(response.statusCode).toBe(201);
    expect(json(response)).toEqual({ message: 'success' });
    expect(await list(url, user.token)).toEqual([
      {
        seq: expect.any(Number),
        id: user.id,
        push_token: 'string',
        language: 'string',
        dev: 0,
        bundleid: 'string',
        os: 'STRING',
        os_token: 'string',
        push_platform: 'STRING',
        phone_model: '',
        provider: 'none',
      },
    ]);
  });

  it('accepts what real Android clients send (unknown fields ignored, case folded)', async () => {
    const user = await registerUser(t.app);
    const body = {
      push_token: `socket-${user.id}`,
      push_platform: 'android',
      language: 'zh_CN',
      os_token: '',
      os: 'Android',
      os_push_version: 1,
      bundleid: 'com.lancens.wxdoorbell',
      phone_model: 'Redmi Note 12 (小米)',
    };
    for (const { url } of channels) expect((await post(url, user.token, body)).statusCode).toBe(201);
    const [ring] = await list('/v1/api/user/token', user.token);
    expect(ring).toMatchObject({
      os: 'ANDROID',
      push_platform: 'ANDROID',
      language: 'zh-CN',
      provider: 'none',
    });
    expect(await list('/v1/api/user/message/token', user.token)).toHaveLength(1);
  });

  it('stores the routing decision with each row', async () => {
    const user = await registerUser(t.app);
    const cases = [
      {
        body: { push_token: `ios-${user.id}`, os: 'iOS', dev: 1 },
        provider: 'apns',
        token: `ios-${user.id}`,
        env: 'sandbox',
      },
      {
        body: { push_token: `hw-${user.id}`, os: 'Huawei', push_platform: 'huawei', os_token: 'HW-TOKEN' },
        provider: 'huawei',
        token: 'HW-TOKEN',
        env: null,
      },
      {
        body: { push_token: `fcm-${user.id}`, push_platform: 'FCM' },
        provider: 'fcm',
        token: `fcm-${user.id}`,
        env: null,
      },
    ];
    for (const entry of cases) {
      expect(
        (await post('/v1/api/user/message/token', user.token, { language: 'en', ...entry.body })).statusCode,
      ).toBe(201);
    }
    const rows = await dbRows(user.id);
    expect(rows.map((row) => [row.provider, row.provider_token, row.apns_environment])).toEqual(
      cases.map((entry) => [entry.provider, entry.token, entry.env]),
    );
    expect(rows.every((row) => row.bundleid === 'com.example.doorbell' && row.channel === 'message')).toBe(
      true,
    );
  });

  it('re-registering the same token updates its row instead of adding one', async () => {
    const user = await registerUser(t.app);
    const token = `same-${user.id}`;
    await post('/v1/api/user/token', user.token, { push_token: token, language: 'en' });
    const [before] = await dbRows(user.id);
    t.clock.advance(1000);
    await post('/v1/api/user/token', user.token, {
      push_token: token,
      language: 'de',
      phone_model: 'iPhone 15',
    });
    const rows = await dbRows(user.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      seq: before?.seq,
      language: 'de',
      phone_model: 'iPhone 15',
      created_at: before?.created_at,
    });
    expect(rows[0]?.updated_at).toBe((before?.updated_at ?? 0) + 1000);
  });

  it('binds a token the user re-registers from a new session to that session', async () => {
    const user = await registerUser(t.app);
    const token = `new-session-${user.id}`;
    await post('/v1/api/user/token', user.token, { push_token: token, language: 'en' });
    const login = await t.app.inject({
      method: 'POST',
      url: '/v1/api/user/login',
      payload: { username: user.username, password: user.password },
    });
    const second = json<{ token: string }>(login).token;
    await post('/v1/api/user/token', second, { push_token: token, language: 'de' });

    // The first session's logout leaves the row; the second's removes it.
    await t.app.inject({ method: 'POST', url: '/v1/api/user/logout', headers: { token: user.token } });
    expect(await dbRows(user.id)).toMatchObject([{ push_token: token, language: 'de' }]);
    await t.app.inject({ method: 'POST', url: '/v1/api/user/logout', headers: { token: second } });
    expect(await dbRows(user.id)).toEqual([]);
  });

  it('keeps the same token apart on the two channels', async () => {
    const user = await registerUser(t.app);
    for (const { url } of channels)
      await post(url, user.token, { push_token: `both-${user.id}`, language: 'en' });
    expect((await dbRows(user.id)).map((row) => row.channel).sort()).toEqual(['message', 'ring']);
  });

  it('moves a token another user holds to the caller, and remembers the session', async () => {
    const alice = await registerUser(t.app);
    const bob = await registerUser(t.app);
    const token = `shared-phone-${alice.id}`;
    await post('/v1/api/user/token', alice.token, { push_token: token, language: 'en' });
    await post('/v1/api/user/token', bob.token, { push_token: token, language: 'fr' });
    expect(await list('/v1/api/user/token', alice.token)).toEqual([]);
    expect(await list('/v1/api/user/token', bob.token)).toMatchObject([
      { push_token: token, id: bob.id, language: 'fr' },
    ]);
    // It is now bound to Bob's session: Bob's logout removes it, Alice's would not have.
    await t.app.inject({ method: 'POST', url: '/v1/api/user/logout', headers: { token: bob.token } });
    expect(await dbRows(bob.id)).toEqual([]);
  });

  it('keeps at most the configured number of rows per channel, dropping the oldest', async () => {
    const user = await registerUser(t.app);
    for (let i = 1; i <= 5; i += 1) {
      t.clock.advance(1000);
      await post('/v1/api/user/token', user.token, { push_token: `limit-${user.id}-${i}`, language: 'en' });
    }
    await post('/v1/api/user/message/token', user.token, {
      push_token: `limit-msg-${user.id}`,
      language: 'en',
    });
    expect((await list('/v1/api/user/token', user.token)).map((row) => row.push_token)).toEqual(
      [3, 4, 5].map((i) => `limit-${user.id}-${i}`),
    );
    expect(await list('/v1/api/user/message/token', user.token)).toHaveLength(1);
  });

  it('refuses a body whose id is another user’s with 403, changing nothing', async () => {
    const alice = await registerUser(t.app);
    const bob = await registerUser(t.app);
    const response = await post('/v1/api/user/token', alice.token, {
      push_token: `idor-${alice.id}`,
      language: 'en',
      id: bob.id,
    });
    expect(response.statusCode).toBe(403);
    expect(json(response)).toEqual({ message: 'id error', code: 'FORBIDDEN' });
    expect(await dbRows(alice.id)).toEqual([]);
    expect(await dbRows(bob.id)).toEqual([]);
    const own = await post('/v1/api/user/token', alice.token, {
      push_token: `idor-${alice.id}`,
      language: 'en',
      id: alice.id,
    });
    expect(own.statusCode).toBe(201);
  });

  it.each(channels)('updates and deletes only the caller’s rows by seq ($name)', async ({ url }) => {
    const alice = await registerUser(t.app);
    const bob = await registerUser(t.app);
    await post(url, bob.token, { push_token: `bob-${bob.id}`, language: 'en' });
    const [bobRow] = await list(url, bob.token);
    const seq = bobRow?.seq ?? 0;

    const read = await list(url, alice.token);
    expect(read).toEqual([]);
    const put = await t.app.inject({
      method: 'PUT',
      url: `${url}/${seq}`,
      headers: { token: alice.token },
      payload: { push_token: 'stolen', language: 'de' },
    });
    expect(put.statusCode).toBe(404);
    expect(json(put)).toEqual({ message: 'no data error', code: 'NOT_FOUND' });
    const del = await t.app.inject({
      method: 'DELETE',
      url: `${url}/${seq}`,
      headers: { token: alice.token },
    });
    expect(del.statusCode).toBe(404);
    const delAll = await t.app.inject({ method: 'DELETE', url, headers: { token: alice.token } });
    expect(json(delAll)).toEqual({ message: 'success', deleted: 0 });
    expect(await list(url, bob.token)).toEqual([bobRow]);

    const ownPut = await t.app.inject({
      method: 'PUT',
      url: `${url}/${seq}`,
      headers: { token: bob.token },
      payload: { language: 'ja' },
    });
    expect(ownPut.statusCode).toBe(200);
    expect(json(ownPut)).toEqual({ message: 'success' });
    expect((await list(url, bob.token))[0]).toMatchObject({
      seq,
      language: 'ja',
      push_token: `bob-${bob.id}`,
    });
    const ownDel = await t.app.inject({
      method: 'DELETE',
      url: `${url}/${seq}`,
      headers: { token: bob.token },
    });
    expect(ownDel.statusCode).toBe(200);
    expect(await list(url, bob.token)).toEqual([]);
  });

  it('changes the push_token by seq, re-routing the row and taking the token over', async () => {
    const alice = await registerUser(t.app);
    const bob = await registerUser(t.app);
    await post('/v1/api/user/token', bob.token, { push_token: `taken-${bob.id}`, language: 'en' });
    await post('/v1/api/user/token', alice.token, {
      push_token: `old-${alice.id}`,
      language: 'en',
      push_platform: 'FCM',
    });
    const [row] = await list('/v1/api/user/token', alice.token);
    const put = await t.app.inject({
      method: 'PUT',
      url: `/v1/api/user/token/${row?.seq}`,
      headers: { token: alice.token },
      payload: { push_token: `taken-${bob.id}` },
    });
    expect(put.statusCode).toBe(200);
    expect(await list('/v1/api/user/token', bob.token)).toEqual([]);
    const [stored] = await dbRows(alice.id);
    expect(stored).toMatchObject({
      push_token: `taken-${bob.id}`,
      provider: 'fcm',
      provider_token: `taken-${bob.id}`,
    });
  });

  it.each(channels)('deletes all of the caller’s rows on one channel ($name)', async ({ url }) => {
    const user = await registerUser(t.app);
    for (const channel of channels)
      await post(channel.url, user.token, { push_token: `all-${user.id}-${channel.name}`, language: 'en' });
    await post(url, user.token, { push_token: `all2-${user.id}`, language: 'en' });
    const response = await t.app.inject({
      method: 'DELETE',
      url,
      headers: { token: user.token, 'content-type': 'application/json' },
    });
    expect(response.statusCode).toBe(200);
    expect(json(response)).toEqual({ message: 'success', deleted: 2 });
    expect(await list(url, user.token)).toEqual([]);
    const other = channels.find((channel) => channel.url !== url)?.url ?? '';
    expect(await list(other, user.token)).toHaveLength(1);
  });

  it('needs a token for every registry call', async () => {
    for (const { url } of channels) {
      for (const request of [
        { method: 'POST' as const, url, payload: { push_token: 'x', language: 'en' } },
        { method: 'GET' as const, url },
        { method: 'PUT' as const, url: `${url}/1`, payload: { language: 'en' } },
        { method: 'DELETE' as const, url: `${url}/1` },
        { method: 'DELETE' as const, url },
      ]) {
        const response = await t.app.inject(request);
        expect(response.statusCode, `${request.method} ${request.url}`).toBe(401);
        expect(json(response)).toEqual({ message: 'no token', code: 'NO_TOKEN' });
      }
    }
  });
});
