import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerCatalogue } from '../../src/delivery/providers/index.js';
import { msUntilChinaMidnight } from '../../src/delivery/providers/shared/china-time.js';
import { createXiaomiProvider } from '../../src/delivery/providers/xiaomi/index.js';
import { FAKE_XIAOMI_APP, type FakeXiaomi, startFakeXiaomi } from '../fakes/xiaomi-server.js';
import { json, registerUser, type TestApp, testDialects } from '../helpers/app.js';
import { ManualClock } from '../helpers/clock.js';
import { deliveryCalls, makerRegistration, startDeliveryApp } from '../helpers/delivery.js';
import { eventually } from '../helpers/wait.js';

const bundle = 'com.example.android.doorbell';
const wrongSecretBundle = 'com.example.android.doorbell.wrong';
const europeBundle = 'com.example.android.doorbell.eu';

interface AppView {
  providers: { xiaomi?: { flagged: { reason: string } | null; region: string; fingerprint: string } };
}

describe.each(testDialects())('delivery through Xiaomi MiPush on %s', (dialect) => {
  let t: TestApp;
  let mi: FakeXiaomi;
  let key: string;

  const calls = deliveryCalls(() => ({ t, key }));
  const { admin, send, settled } = calls;
  const putApp = async (bundleid: string, xiaomi: Record<string, unknown>) =>
    json<AppView>(await calls.putApp(bundleid, { xiaomi }, [200, 201]));
  const getApp = (bundleid: string) => calls.getApp<AppView>(bundleid);

  beforeAll(async () => {
    const clock = new ManualClock();
    mi = await startFakeXiaomi({ clock });
    // Every region's host is the fake, under a path of the region's name.
    const catalogue = { ...providerCatalogue, xiaomi: createXiaomiProvider({ regionUrls: mi.regionUrls() }) };
    ({ t, key } = await startDeliveryApp(dialect, clock, {}, { catalogue }));
    // The main app: region cn by default, no url override.
    const { url: _url, ...settings } = mi.credentials();
    const created = await putApp(bundle, settings);
    expect(created.providers.xiaomi).toMatchObject({ region: 'cn', flagged: null });
    expect(JSON.stringify(created)).not.toContain(FAKE_XIAOMI_APP.appSecret);
    await putApp(wrongSecretBundle, { ...settings, app_secret: 'NotTheAppSecretAtAll12==' });
    await putApp(europeBundle, { ...settings, region: 'europe' });
  });
  afterAll(async () => {
    await t.close();
    await mi.close();
  });

  /** The manual's registration call, as a Xiaomi phone without Google services makes it. */
  const register = (
    token: string,
    url: '/v1/api/user/token' | '/v1/api/user/message/token',
    osToken: string,
    app = bundle,
  ) => calls.register(token, url, makerRegistration('XIAOMI', app, osToken, { phone_model: 'Xiaomi 14' }));
  const registeredTokens = (token: string) =>
    calls.registered(token, '/v1/api/user/message/token', 'push_token');
  const requestsFor = (token: string) => mi.received.filter((entry) => entry.tokens.includes(token));

  it('delivers a ring on the call channel: a ringing notification, short-lived, sent once', async () => {
    const user = await registerUser(t.app);
    const regId = `mi-ring-${user.id}`;
    await register(user.token, '/v1/api/user/token', regId);
    const id = await send({
      channel: 'ring',
      users: [user.id],
      title: 'Doorbell',
      body: 'Someone is at the door',
      localized: { de: { title: 'Türklingel', body: 'Jemand steht vor der Tür' } },
      data: { uid: 'U1' },
    });
    const result = await settled(id);
    expect(result.deliveries[0]).toMatchObject({
      provider: 'xiaomi',
      token: regId,
      status: 'sent',
      provider_message_id: expect.stringMatching(/^slm/),
    });
    const [received] = requestsFor(regId);
    expect(received?.region).toBe('cn');
    expect(received?.path).toBe('/v3/message/regid');
    expect(received?.headers.authorization).toBe(`key=${FAKE_XIAOMI_APP.appSecret}`);
    expect(received?.fields).toMatchObject({
      registration_id: regId,
      restricted_package_name: FAKE_XIAOMI_APP.packageName,
      pass_through: '0',
      title: 'Türklingel',
      description: 'Jemand steht vor der Tür',
      notify_type: '-1',
      time_to_live: '30000',
      'extra.channel_id': FAKE_XIAOMI_APP.ringChannelId,
      'extra.only_send_once': '1',
    });
    expect(JSON.parse(received?.fields.payload ?? '{}')).toEqual({ uid: 'U1', ring_id: id });
  });

  it('delivers a message as a notification on the message channel, kept for its TTL', async () => {
    const user = await registerUser(t.app);
    const regId = `mi-msg-${user.id}`;
    await register(user.token, '/v1/api/user/message/token', regId);
    await settled(
      await send({ channel: 'message', users: [user.id], title: 'Battery low', body: 'Front door lock' }),
    );
    const [received] = requestsFor(regId);
    expect(received?.fields).toMatchObject({
      pass_through: '0',
      title: 'Battery low',
      description: 'Front door lock',
      time_to_live: String(24 * 3600 * 1000),
      'extra.channel_id': FAKE_XIAOMI_APP.messageChannelId,
    });
    expect(received?.fields).not.toHaveProperty('extra.only_send_once');
    expect(received?.fields).not.toHaveProperty('notify_type');
  });

  it('sends a message to many phones as one request with the regIds comma-joined', async () => {
    const users = await Promise.all(Array.from({ length: 30 }, () => registerUser(t.app)));
    const regIds = users.map((user) => `mi-fan-${user.id}`);
    for (const [index, user] of users.entries()) {
      await register(user.token, '/v1/api/user/message/token', regIds[index] ?? '');
    }
    const before = mi.requestCount;
    const result = await settled(
      await send({ channel: 'message', users: users.map((user) => user.id), body: 'Motion at the door' }),
    );
    expect(result.deliveries.every((delivery) => delivery.status === 'sent')).toBe(true);
    expect(mi.requestCount - before).toBe(1);
    const [received] = requestsFor(regIds[0] ?? '');
    expect(received?.tokens.sort()).toEqual([...regIds].sort());
    expect(received?.fields.registration_id?.split(',')).toHaveLength(30);
  });

  it('removes the registrations MiPush reports in data.bad_regids, and on 20301', async () => {
    const user = await registerUser(t.app);
    const live = `mi-live-${user.id}`;
    const gone = `mi-gone-${user.id}`;
    await register(user.token, '/v1/api/user/message/token', live);
    await register(user.token, '/v1/api/user/message/token', gone);
    mi.script(gone, 'bad_regid');
    const result = await settled(await send({ channel: 'message', users: [user.id], body: 'x' }));
    expect(
      result.deliveries.map((delivery) => [delivery.token, delivery.status, delivery.reason]).sort(),
    ).toEqual([
      [gone, 'invalid_token', 'MIPUSH_BAD_REGID'],
      [live, 'sent', null],
    ]);
    expect(requestsFor(gone)).toHaveLength(1);
    expect(await registeredTokens(user.token)).toEqual([`socket-${live}`]);

    // Alone in its request, a dead regId is MiPush's 20301 "No valid targets!".
    const lonely = await registerUser(t.app);
    const uninstalled = `mi-uninstalled-${lonely.id}`;
    await register(lonely.token, '/v1/api/user/message/token', uninstalled);
    mi.script(uninstalled, 'bad_regid');
    const alone = await settled(await send({ channel: 'message', users: [lonely.id], body: 'x' }));
    expect(alone.deliveries[0]).toMatchObject({ status: 'invalid_token', reason: 'MIPUSH_20301' });
    expect(requestsFor(uninstalled)[0]?.code).toBe(20301);
    expect(await registeredTokens(lonely.token)).toEqual([]);
  });

  it('flags the app when MiPush refuses its AppSecret, and uses a new secret at once', async () => {
    const user = await registerUser(t.app);
    const regId = `mi-secret-${user.id}`;
    await register(user.token, '/v1/api/user/message/token', regId, wrongSecretBundle);
    const failed = await settled(await send({ channel: 'message', users: [user.id], body: 'x' }));
    expect(failed.deliveries[0]).toMatchObject({ status: 'failed', reason: 'MIPUSH_21301' });
    const flagged = await eventually(async () => {
      const app = await getApp(wrongSecretBundle);
      return app.providers.xiaomi?.flagged === null ? undefined : app;
    }, 'the flag');
    expect(flagged.providers.xiaomi?.flagged?.reason).toBe('MIPUSH_21301');
    // The registration is the phone's and stays: the secret was wrong, not the token.
    expect(await registeredTokens(user.token)).toEqual([`socket-${regId}`]);

    // The operator pastes the right AppSecret: the flag goes and the next send carries it.
    const { url: _url, ...settings } = mi.credentials();
    const fixed = await putApp(wrongSecretBundle, settings);
    expect(fixed.providers.xiaomi?.flagged).toBeNull();
    const sent = await settled(await send({ channel: 'message', users: [user.id], body: 'y' }));
    expect(sent.deliveries[0]?.status).toBe('sent');
    expect(requestsFor(regId).map((entry) => entry.headers.authorization)).toEqual([
      'key=NotTheAppSecretAtAll12==',
      `key=${FAKE_XIAOMI_APP.appSecret}`,
    ]);
  });

  it('sends an app configured for a region to that region’s host', async () => {
    const user = await registerUser(t.app);
    const regId = `mi-eu-${user.id}`;
    await register(user.token, '/v1/api/user/message/token', regId, europeBundle);
    expect((await getApp(europeBundle)).providers.xiaomi?.region).toBe('europe');
    await settled(await send({ channel: 'message', users: [user.id], body: 'Bonjour' }));
    expect(requestsFor(regId).map((entry) => entry.region)).toEqual(['europe']);
  });

  it('refuses settings it could not use, with the problem and without the secret', async () => {
    const response = await t.app.inject({
      method: 'PUT',
      url: `/v1/admin/apps/${bundle}.bad`,
      headers: admin(),
      payload: { xiaomi: { ...mi.credentials(), app_secret: 'SECRET IN CLEAR', region: 'eu' } },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'INVALID_CREDENTIALS' });
    expect(response.body).toMatch(/app_secret must be the AppSecret/);
    expect(response.body).not.toContain('SECRET IN CLEAR');
  });

  it('holds a message MiPush refuses for the daily quota until the quota resets at midnight in China', async () => {
    const user = await registerUser(t.app);
    const regId = `mi-quota-${user.id}`;
    await register(user.token, '/v1/api/user/message/token', regId);
    mi.scriptNext(['DAILY_QUOTA']);
    const reset = t.clock.now() + msUntilChinaMidnight(t.clock.now());
    const id = await send({ channel: 'message', users: [user.id], body: 'Quota' });
    await calls.until(id, 'the retry', (view) => view.deliveries[0]?.status === 'retrying');
    const row = await t.database.handle.db
      .selectFrom('deliveries')
      .select(['due_at', 'reason'])
      .where('notification_id', '=', id)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ due_at: reset, reason: 'MIPUSH_10034' });

    t.clock.advance(reset - t.clock.now() - 60_000);
    // A minute before the reset: not due yet. Another phone's message goes through meanwhile.
    const other = await registerUser(t.app);
    await register(other.token, '/v1/api/user/message/token', `mi-other-${other.id}`);
    await settled(await send({ channel: 'message', users: [other.id], body: 'tick' }));
    expect(requestsFor(regId)).toHaveLength(1);
    expect((await calls.read(id)).deliveries[0]?.status).toBe('retrying');

    t.clock.advance(60_000);
    const result = await settled(id);
    expect(result.deliveries[0]).toMatchObject({ status: 'sent', attempts: 2 });
    expect(requestsFor(regId)).toHaveLength(2);
  });

  it('only ever calls v3/message/regid', () => {
    expect(new Set(mi.received.map((entry) => entry.path))).toEqual(new Set(['/v3/message/regid']));
  });
});
