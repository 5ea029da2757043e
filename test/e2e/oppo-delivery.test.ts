import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeOppo, type FakeOppoReceived, startFakeOppo } from '../fakes/oppo-server.js';
import { json, registerUser, type TestApp, testDialects } from '../helpers/app.js';
import { ManualClock } from '../helpers/clock.js';
import { deliveryCalls, makerRegistration, startDeliveryApp } from '../helpers/delivery.js';
import { eventually } from '../helpers/wait.js';

const bundle = 'com.example.oppo.doorbell';

interface OppoView {
  providers: { oppo: Record<string, unknown> & { flagged: { reason: string } | null } };
}

describe.each(testDialects())('delivery through OPPO PUSH on %s', (dialect) => {
  let t: TestApp;
  let oppo: FakeOppo;
  let key: string;

  beforeAll(async () => {
    const clock = new ManualClock();
    oppo = await startFakeOppo({ clock });
    ({ t, key } = await startDeliveryApp(dialect, clock));
    const put = await putApp(bundle, oppo.credentials());
    expect(put.statusCode, put.body).toBe(201);
  });
  afterAll(async () => {
    await t.close();
    await oppo.close();
  });

  const calls = deliveryCalls(() => ({ t, key }));
  const { send, settled } = calls;
  const putApp = (bundleid: string, oppo: Record<string, unknown>) =>
    calls.putApp(bundleid, { default_language: 'en', oppo }, null);
  const getApp = (bundleid: string) => calls.getApp<OppoView>(bundleid);
  /** The manual's registration call, as an OPPO phone without Google services makes it. */
  const register = (userToken: string, url: string, osToken: string, extra: Record<string, unknown> = {}) =>
    calls.register(
      userToken,
      url,
      makerRegistration('OPPO', bundle, osToken, { os_push_version: '3.5.0', ...extra }),
    );
  const requestsFor = (tokens: readonly string[]): FakeOppoReceived[] =>
    oppo.received.filter((received) => received.tokens.some((token) => tokens.includes(token)));

  it('keeps the settings encrypted and shows them without the master secret', async () => {
    const view = await getApp(bundle);
    expect(view.providers.oppo).toMatchObject({
      app_key: oppo.appKey,
      ring_channel_id: 'bellhop_ring',
      message_channel_id: 'bellhop_message',
      ring_category: 'IM',
      message_category: 'DEVICE_REMINDER',
      notify_level: 16,
      url: oppo.url,
      intl_url: oppo.intlUrl,
      ca: 'configured',
      flagged: null,
    });
    const shown = JSON.stringify(view);
    expect(shown).not.toContain(oppo.masterSecret);
    const row = await t.database.handle.db
      .selectFrom('apps')
      .select('secrets')
      .where('bundleid', '=', bundle)
      .executeTakeFirstOrThrow();
    expect(row.secrets).not.toContain(oppo.masterSecret);
    expect(row.secrets).not.toContain(oppo.appKey);
  });

  it('refuses settings OPPO could not use with a 400 an operator can read', async () => {
    const secret = 'a-secret-that-must-not-echo';
    const bad = await putApp('com.example.oppo.bad', {
      ...oppo.credentials(),
      master_secret: secret,
      notify_level: 3,
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ message: 'notify_level error' });
    expect(bad.body).not.toContain(secret);
    const { master_secret: _secret, ...withoutSecret } = oppo.credentials();
    const missing = await putApp('com.example.oppo.bad', withoutSecret);
    expect(missing.json()).toMatchObject({ message: 'undefined master_secret', code: 'FIELD_MISSING' });
    const badUrl = await putApp('com.example.oppo.bad', { ...oppo.credentials(), intl_url: 'ftp://x' });
    expect(badUrl.json()).toMatchObject({
      message: 'oppo: intl_url must be an https or an http URL error',
      code: 'INVALID_CREDENTIALS',
    });
    const unknown = await putApp('com.example.oppo.bad', { ...oppo.credentials(), app_secret: secret });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json()).toMatchObject({ code: 'INVALID_CREDENTIALS' });
    expect(unknown.body).toContain('app_secret is not needed');
    expect(unknown.body).not.toContain(secret);
  });

  it('delivers a ring at once with unicast, on the call channel with the strong reminder and a short TTL', async () => {
    const user = await registerUser(t.app);
    const regId = `CN_ring${user.id}`;
    await register(user.token, '/v1/api/user/token', regId);
    const id = await send({
      channel: 'ring',
      users: [user.id],
      title: 'Doorbell',
      body: 'Someone is at the door',
      localized: { de: { title: 'Türklingel', body: 'Jemand ist an der Tür' } },
      data: { uid: 'U1' },
    });
    const result = await settled(id);
    expect(result.deliveries[0]).toMatchObject({
      status: 'sent',
      token: regId,
      provider: 'oppo',
      provider_message_id: expect.stringMatching(/^30912345-1-1-/),
    });
    const [received] = requestsFor([regId]);
    expect(received).toMatchObject({ api: 'unicast', region: 'cn', code: 0 });
    const notification = received?.messages[0]?.notification as Record<string, unknown>;
    expect(notification).toMatchObject({
      title: 'Türklingel',
      content: 'Jemand ist an der Tür',
      channel_id: 'bellhop_ring',
      category: 'IM',
      notify_level: 16,
      off_line: true,
      off_line_ttl: 30,
      app_message_id: result.deliveries[0]?.id,
    });
    expect(JSON.parse(String(notification.action_parameters))).toEqual({
      uid: 'U1',
      ring_id: id,
      channel: 'ring',
    });
  });

  it('sends a message to many phones in one unicast_batch request, on the message channel', async () => {
    const tokens: string[] = [];
    const users = [];
    for (let u = 0; u < 3; u += 1) {
      const user = await registerUser(t.app);
      users.push(user.id);
      for (let i = 0; i < 4; i += 1) {
        const regId = `CN_fan${user.id}x${i}`;
        tokens.push(regId);
        await register(user.token, '/v1/api/user/message/token', regId);
      }
    }
    const before = oppo.counts.requests;
    const id = await send({ channel: 'message', users, title: 'Battery low', body: 'Front door lock' });
    const result = await settled(id);
    expect(result.deliveries.map((delivery) => delivery.status)).toEqual(Array(12).fill('sent'));
    expect(oppo.counts.requests - before).toBe(1);
    const [batch] = requestsFor(tokens);
    expect(batch?.api).toBe('unicast_batch');
    expect([...(batch?.tokens ?? [])].sort()).toEqual([...tokens].sort());
    expect(batch?.messages[0]?.notification).toMatchObject({
      title: 'Battery low',
      content: 'Front door lock',
      channel_id: 'bellhop_message',
      category: 'DEVICE_REMINDER',
      off_line_ttl: 86_400,
    });
    expect(batch?.messages[0]?.notification).not.toHaveProperty('notify_level');
  });

  it('removes the registrations OPPO reports as invalid registration ids, and keeps the others', async () => {
    const user = await registerUser(t.app);
    const gone = `CN_gone${user.id}`;
    const kept = `CN_kept${user.id}`;
    await register(user.token, '/v1/api/user/message/token', gone);
    await register(user.token, '/v1/api/user/message/token', kept);
    oppo.script(gone, 10000);
    const result = await settled(await send({ channel: 'message', users: [user.id], body: 'x' }));
    expect(
      result.deliveries.map((delivery) => [delivery.token, delivery.status, delivery.reason]).sort(),
    ).toEqual([
      [gone, 'invalid_token', 'OPPO_10000'],
      [kept, 'sent', null],
    ]);
    expect(requestsFor([gone]).map((received) => received.errorCodes.sort())).toEqual([[0, 10000]]);
    expect(await calls.registered(user.token, '/v1/api/user/message/token')).toEqual([kept]);
  });

  it('fetches a new auth_token when OPPO says the old one expired, and delivers', async () => {
    const user = await registerUser(t.app);
    const regId = `CN_auth${user.id}`;
    await register(user.token, '/v1/api/user/token', regId);
    oppo.expireAuthTokens();
    const issued = oppo.counts.authTokensIssued;
    const result = await settled(await send({ channel: 'ring', users: [user.id], title: 'Doorbell' }));
    expect(result.deliveries[0]?.status).toBe('sent');
    expect(oppo.counts.authTokensIssued - issued).toBe(1);
    expect(requestsFor([regId]).map((received) => received.code)).toEqual([11, 0]);
  });

  it('sends to the overseas host the phones registered outside mainland China', async () => {
    const user = await registerUser(t.app);
    const home = [`${user.id}abc`, `CN_${user.id}def`, `OPPO_CN_${user.id}ghi`];
    const abroad = [`SG_${user.id}jkl`, `OPPO_IN_${user.id}mno`];
    for (const regId of [...home, ...abroad]) await register(user.token, '/v1/api/user/message/token', regId);
    const result = await settled(await send({ channel: 'message', users: [user.id], body: 'x' }));
    expect(result.deliveries.every((delivery) => delivery.status === 'sent')).toBe(true);
    const regions = new Map<string, string>();
    for (const received of requestsFor([...home, ...abroad])) {
      for (const token of received.tokens) regions.set(token, received.region);
    }
    expect(Object.fromEntries(regions)).toEqual({
      ...Object.fromEntries(home.map((token) => [token, 'cn'])),
      ...Object.fromEntries(abroad.map((token) => [token, 'intl'])),
    });
  });

  it('flags the app when OPPO refuses its signature (wrong master secret)', async () => {
    const other = 'com.example.oppo.wrongsecret';
    expect(
      (await putApp(other, oppo.credentials({ master_secret: 'not-the-master-secret' }))).statusCode,
    ).toBe(201);
    const user = await registerUser(t.app);
    const regId = `CN_creds${user.id}`;
    await register(user.token, '/v1/api/user/token', regId, { bundleid: other });
    const result = await settled(await send({ channel: 'ring', users: [user.id], title: 'Doorbell' }));
    expect(result.deliveries[0]).toMatchObject({ status: 'failed', reason: 'auth_OPPO_16' });
    const app = await eventually(async () => {
      const view = await getApp(other);
      return view.providers.oppo.flagged === null ? undefined : view;
    }, 'the flag');
    expect(app.providers.oppo.flagged?.reason).toBe('auth_OPPO_16');
    expect(requestsFor([regId])).toHaveLength(0);
  });

  it('cannot call off a ring already shown: OPPO has no data messages, so the cancel is not sent', async () => {
    const user = await registerUser(t.app);
    const regId = `CN_cancel${user.id}`;
    await register(user.token, '/v1/api/user/token', regId);
    const id = await send({ channel: 'ring', users: [user.id], title: 'Doorbell' });
    await settled(id);
    const cancel = await t.app.inject({
      method: 'POST',
      url: `/v1/push/${id}/cancel`,
      headers: { authorization: `Bearer ${key}` },
    });
    expect(cancel.statusCode).toBe(202);
    const result = await settled(json<{ id: string }>(cancel).id);
    expect(result.deliveries[0]).toMatchObject({ status: 'failed', reason: 'oppo_no_text' });
    expect(requestsFor([regId])).toHaveLength(1);
  });

  // Last: it moves the clock past midnight in China.
  it('retries a message refused for the daily quota once the quota resets at midnight, China time', async () => {
    const user = await registerUser(t.app);
    const regId = `CN_quota${user.id}`;
    await register(user.token, '/v1/api/user/message/token', regId);
    oppo.setDailyLimit(oppo.acceptedToday());
    const id = await send({ channel: 'message', users: [user.id], body: 'x' });
    const retrying = await calls.until(
      id,
      'the quota retry',
      (view) => view.deliveries[0]?.status === 'retrying',
    );
    expect(retrying.deliveries[0]?.reason).toBe('OPPO_33');
    // The clock starts at 20:00 in China (12:00 UTC): the retry is due at the reset, not before.
    const row = await t.database.handle.db
      .selectFrom('deliveries')
      .select('due_at')
      .where('id', '=', retrying.deliveries[0]?.id ?? '')
      .executeTakeFirstOrThrow();
    expect(Number(row.due_at)).toBe(Date.UTC(2026, 10, 30, 16, 0, 0));
    t.clock.advance(4 * 3600_000);
    const result = await settled(id);
    expect(result.deliveries[0]).toMatchObject({ status: 'sent', attempts: 2 });
    expect(requestsFor([regId]).map((received) => received.code)).toEqual([33, 0]);
  });
});
