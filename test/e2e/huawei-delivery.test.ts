import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeHuawei, startFakeHuawei } from '../fakes/huawei-server.js';
import { registerUser, type TestApp, testDialects } from '../helpers/app.js';
import { ManualClock } from '../helpers/clock.js';
import { deliveryCalls, makerRegistration, startDeliveryApp } from '../helpers/delivery.js';
import { eventually } from '../helpers/wait.js';

const bundle = 'com.example.huawei.doorbell';

interface SentMessage {
  token: string[];
  data?: string;
  android: { ttl: string; urgency?: string; category?: string; notification?: Record<string, unknown> };
}

describe.each(testDialects())('delivery through Huawei Push Kit on %s', (dialect) => {
  let t: TestApp;
  let huawei: FakeHuawei;
  let key: string;

  const calls = deliveryCalls(() => ({ t, key }));
  const { admin, send, settled } = calls;
  const putApp = (bundleid: string, huawei: Record<string, unknown>) => calls.putApp(bundleid, { huawei });

  beforeAll(async () => {
    const clock = new ManualClock();
    huawei = await startFakeHuawei({ clock });
    ({ t, key } = await startDeliveryApp(dialect, clock));
    await putApp(bundle, { ...huawei.settings(), message_channel_id: 'alarms', ring_channel_id: 'calls' });
  });
  afterAll(async () => {
    await t.close();
    await huawei.close();
  });

  /** The manual's registration call, as a Huawei phone without Google services makes it. */
  const register = (token: string, url: string, osToken: string, extra: Record<string, unknown> = {}) =>
    calls.register(
      token,
      url,
      makerRegistration('HUAWEI', bundle, osToken, { phone_model: 'ELS-AN00', ...extra }),
    );
  const requestsFor = (token: string) => huawei.received.filter((entry) => entry.tokens.includes(token));
  const messageOf = (token: string) =>
    (requestsFor(token).at(-1)?.body as { message: SentMessage } | undefined)?.message;
  const myTokens = (loginToken: string, url: string) => calls.registered(loginToken, url);

  it('rejects unusable settings with a readable 400 that does not echo the secret', async () => {
    const response = await t.app.inject({
      method: 'PUT',
      url: '/v1/admin/apps/com.example.huawei.bad',
      headers: admin(),
      payload: { huawei: { app_id: 'com.example', client_secret: 'top-secret-value' } },
    });
    expect(response.statusCode).toBe(400);
    expect(response.body).toMatch(/app_id must be the App ID/);
    expect(response.body).not.toContain('top-secret-value');
    const view = await t.app.inject({ method: 'GET', url: `/v1/admin/apps/${bundle}`, headers: admin() });
    expect(view.json()).toMatchObject({
      providers: {
        huawei: { app_id: huawei.appId, message_channel_id: 'alarms', ca: 'configured', flagged: null },
      },
    });
    expect(view.body).not.toContain(huawei.clientSecret);
  });

  it('delivers a ring as a HIGH-urgency VOIP data message with a short TTL', async () => {
    const user = await registerUser(t.app);
    const osToken = `hms-ring-${user.id}`;
    await register(user.token, '/v1/api/user/token', osToken);
    const id = await send({
      channel: 'ring',
      users: [user.id],
      title: 'Doorbell',
      localized: { de: { title: 'Türklingel' } },
      data: { uid: 'U1' },
    });
    const result = await settled(id);
    expect(result.deliveries[0]).toMatchObject({
      provider: 'huawei',
      status: 'sent',
      provider_message_id: expect.stringMatching(/^\d+$/),
    });
    const message = messageOf(osToken);
    expect(message?.token).toEqual([osToken]);
    expect(message?.android).toEqual({ ttl: '30s', urgency: 'HIGH', category: 'VOIP' });
    expect(JSON.parse(message?.data ?? '{}')).toMatchObject({
      uid: 'U1',
      ring_id: id,
      title: 'Türklingel',
      channel: 'ring',
      channel_id: 'calls',
    });
    expect(requestsFor(osToken)[0]?.headers.authorization).toMatch(/^Bearer /);
  });

  it('delivers a message as a notification on the app’s channel that opens the app', async () => {
    const user = await registerUser(t.app);
    const osToken = `hms-msg-${user.id}`;
    await register(user.token, '/v1/api/user/message/token', osToken);
    await settled(await send({ channel: 'message', users: [user.id], title: 'Battery low', body: 'Lock' }));
    expect(messageOf(osToken)?.android).toEqual({
      ttl: '86400s',
      notification: { title: 'Battery low', body: 'Lock', click_action: { type: 3 }, channel_id: 'alarms' },
    });
  });

  it('sends one message to 20 phones in one request', async () => {
    const osTokens: string[] = [];
    const users = [];
    for (let u = 0; u < 4; u += 1) {
      const user = await registerUser(t.app);
      users.push(user.id);
      for (let i = 0; i < 5; i += 1) {
        osTokens.push(`hms-many-${user.id}-${i}`);
        await register(user.token, '/v1/api/user/message/token', `hms-many-${user.id}-${i}`);
      }
    }
    const before = huawei.sendRequests;
    const result = await settled(await send({ channel: 'message', users, body: 'Motion' }));
    expect(result.deliveries.map((delivery) => delivery.status)).toEqual(Array(20).fill('sent'));
    expect(huawei.sendRequests - before).toBe(1);
    expect(huawei.received.at(-1)?.tokens.sort()).toEqual(osTokens.sort());
  });

  it('removes exactly the registrations an 80100000 partial success names', async () => {
    const user = await registerUser(t.app);
    const good = [`hms-ok-a-${user.id}`, `hms-ok-b-${user.id}`];
    const bad = `hms-illegal-${user.id}`;
    for (const osToken of [good[0], bad, good[1]])
      await register(user.token, '/v1/api/user/message/token', osToken ?? '');
    huawei.script(bad, 'invalid');
    const result = await settled(await send({ channel: 'message', users: [user.id], body: 'x' }));
    expect(requestsFor(bad).at(-1)?.code).toBe('80100000');
    expect(result.deliveries.map((delivery) => [delivery.status, delivery.reason]).sort()).toEqual([
      ['invalid_token', 'illegal_token'],
      ['sent', null],
      ['sent', null],
    ]);
    expect((await myTokens(user.token, '/v1/api/user/message/token')).sort()).toEqual(good.sort());
  });

  it('removes a registration whose only token is invalid (80300007)', async () => {
    const user = await registerUser(t.app);
    const gone = `hms-gone-${user.id}`;
    await register(user.token, '/v1/api/user/token', gone);
    huawei.script(gone, 'invalid');
    const result = await settled(await send({ channel: 'ring', users: [user.id] }));
    expect(result.deliveries[0]).toMatchObject({ status: 'invalid_token', reason: '80300007' });
    expect(await myTokens(user.token, '/v1/api/user/token')).toEqual([]);
  });

  it('fetches a new access token when Push Kit says the old one expired, and delivers', async () => {
    const user = await registerUser(t.app);
    const osToken = `hms-refresh-${user.id}`;
    await register(user.token, '/v1/api/user/message/token', osToken);
    const issued = huawei.tokensIssued;
    huawei.expireAccessTokens();
    const result = await settled(await send({ channel: 'message', users: [user.id], body: 'x' }));
    expect(result.deliveries[0]?.status).toBe('sent');
    expect(requestsFor(osToken).map((entry) => entry.code)).toEqual(['80200003', '80000000']);
    expect(huawei.tokensIssued - issued).toBe(1);
  });

  it('retries flow control after its Retry-After, on the test clock', async () => {
    const user = await registerUser(t.app);
    const osToken = `hms-busy-${user.id}`;
    await register(user.token, '/v1/api/user/message/token', osToken);
    huawei.script(osToken, [{ error: 'FLOW_CONTROL', retryAfter: 30 }]);
    const id = await send({ channel: 'message', users: [user.id], body: 'x' });
    await calls.until(id, 'the retry', (view) => view.deliveries[0]?.status === 'retrying');
    expect(requestsFor(osToken)).toHaveLength(1);
    t.clock.advance(29_000);
    await t.worker.considered();
    expect((await calls.read(id)).deliveries[0]).toMatchObject({ status: 'retrying', attempts: 1 });
    expect(requestsFor(osToken)).toHaveLength(1);
    t.clock.advance(1_001);
    const result = await settled(id);
    expect(result.deliveries[0]).toMatchObject({ status: 'sent', attempts: 2 });
    expect(requestsFor(osToken).map((entry) => entry.status)).toEqual([503, 200]);
  });

  it('flags the app when Huawei refuses its secret', async () => {
    const badBundle = 'com.example.huawei.badsecret';
    await putApp(badBundle, { ...huawei.settings(), client_secret: 'not-the-app-secret' });
    const user = await registerUser(t.app);
    const osToken = `hms-creds-${user.id}`;
    await register(user.token, '/v1/api/user/token', osToken, { bundleid: badBundle });
    const result = await settled(await send({ channel: 'ring', users: [user.id] }));
    expect(result.deliveries[0]).toMatchObject({ status: 'failed', reason: 'oauth_1101' });
    expect(requestsFor(osToken)).toEqual([]);
    const view = await eventually(async () => {
      const app = await calls.getApp<{ providers: { huawei: { flagged: { reason: string } | null } } }>(
        badBundle,
      );
      return app.providers.huawei.flagged === null ? undefined : app;
    }, 'the flag');
    expect(view.providers.huawei.flagged?.reason).toBe('oauth_1101');
  });
});
