import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeHuawei, startFakeHuawei } from '../fakes/huawei-server.js';
import { createTestApp, registerUser, type TestApp, testDialects } from '../helpers/app.js';
import { ManualClock } from '../helpers/clock.js';
import { pushApi } from '../helpers/push.js';

const bundle = 'com.example.gathering.doorbell';
const users = 25;
const phonesPerUser = 100;

/**
 * The worker claims deliveries in batches smaller than a maker's batch call here (100 against
 * Huawei's 1,000), so that full requests can only come from gathering several claims.
 */
describe.each(testDialects())('gathering messages into batch calls on %s', (dialect) => {
  let t: TestApp;
  let huawei: FakeHuawei;
  let key: string;
  const userIds: number[] = [];
  const ringTokens: string[] = [];

  beforeAll(async () => {
    const clock = new ManualClock();
    huawei = await startFakeHuawei({ clock });
    t = await createTestApp(
      dialect,
      { WORKER_POLL_MS: '20', WORKER_BATCH_SIZE: '100', DELIVERY_BATCH_LINGER_MS: '2000' },
      { worker: true, clock },
    );
    key = (await t.services.apiKeys.create('admin', ['admin'])).key;
    const put = await t.app.inject({
      method: 'PUT',
      url: `/v1/admin/apps/${bundle}`,
      headers: { authorization: `Bearer ${key}` },
      payload: { name: 'Doorbell', mode: 'live', huawei: huawei.settings() },
    });
    expect(put.statusCode, put.body).toBe(201);
    for (let user = 0; user < users; user += 1) {
      const account = await registerUser(t.app);
      userIds.push(account.id);
      for (let phone = 0; phone < phonesPerUser; phone += 1) {
        const osToken = `hw-${account.id}-${phone}`;
        const ring = phone < 3 && user === 0;
        const response = await t.app.inject({
          method: 'POST',
          url: ring ? '/v1/api/user/token' : '/v1/api/user/message/token',
          headers: { token: account.token, 'content-type': 'application/json' },
          payload: {
            push_token: `socket-${osToken}`,
            language: 'en',
            bundleid: bundle,
            os: 'Android',
            push_platform: 'HUAWEI',
            os_token: osToken,
          },
        });
        expect(response.statusCode, response.body).toBe(201);
        if (ring) ringTokens.push(osToken);
      }
    }
  }, 120_000);
  afterAll(async () => {
    await t.close();
    await huawei.close();
  });

  it('sends a message to 2,500 phones in 3 requests although each claim holds 100', async () => {
    const api = pushApi(t.app, key);
    const id = await api.send({ channel: 'message', users: userIds, title: 'Alarm', body: 'Motion' });
    const result = await api.settled(id);
    expect(result.counts).toEqual({ sent: users * phonesPerUser - ringTokens.length });
    const sizes = huawei.received
      .filter((request) => request.tokens.length > 1)
      .map((request) => request.tokens.length)
      .sort((a, b) => b - a);
    expect(sizes.reduce((sum, size) => sum + size, 0)).toBe(2497);
    // Full requests, and the tail: what the last claims brought (a claim still being read when
    // the queue ran dry joins the tail late, as a request of its own).
    expect(sizes.slice(0, 2)).toEqual([1000, 1000]);
    expect(sizes.length).toBeLessThanOrEqual(4);
  });

  it('sends each ring on its own, without waiting to gather', async () => {
    const before = huawei.received.length;
    const api = pushApi(t.app, key);
    const id = await api.send({ channel: 'ring', users: [userIds[0]], title: 'Doorbell', body: 'Ding' });
    const result = await api.settled(id);
    expect(result.deliveries.map((delivery) => delivery.status)).toEqual(['sent', 'sent', 'sent']);
    const rings = huawei.received.slice(before);
    expect(rings.map((request) => request.tokens.length)).toEqual([1, 1, 1]);
    expect(rings.flatMap((request) => request.tokens).sort()).toEqual([...ringTokens].sort());
  });
});
