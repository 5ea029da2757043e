import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { msUntilChinaMidnight } from '../../src/delivery/providers/shared/china-time.js';
import { type FakeVivo, startFakeVivo } from '../fakes/vivo-server.js';
import { json, registerUser, type TestApp, testDialects } from '../helpers/app.js';
import { ManualClock } from '../helpers/clock.js';
import { deliveryCalls, makerRegistration, startDeliveryApp } from '../helpers/delivery.js';
import type { NotificationView } from '../helpers/push.js';
import { eventually } from '../helpers/wait.js';

const bundle = 'com.example.vivo.doorbell';
const wrongBundle = 'com.example.vivo.misconfigured';

describe.each(testDialects())('delivery through vivo PUSH on %s', (dialect) => {
  let t: TestApp;
  let vivo: FakeVivo;
  let key: string;

  const calls = deliveryCalls(() => ({ t, key }));
  const { send, settled } = calls;
  const putApp = (bundleid: string, vivo: Record<string, unknown>) =>
    calls.putApp(bundleid, { default_language: 'en', vivo });

  beforeAll(async () => {
    const clock = new ManualClock();
    // authTokens that die after 30 minutes, sooner than the adapter replaces them (1 h).
    vivo = await startFakeVivo({ clock, tokenLifetimeMs: 30 * 60_000 });
    ({ t, key } = await startDeliveryApp(dialect, clock, {
      WORKER_BATCH_SIZE: '2000',
      MAX_REGISTRATIONS_PER_CHANNEL: '2000',
    }));
    const put = await putApp(bundle, vivo.credentials());
    const shown = json<{ providers: { vivo: Record<string, unknown> } }>(put).providers.vivo;
    expect(shown).toMatchObject({ app_id: vivo.appId, ring_category: 'IM', ca: 'configured', flagged: null });
    expect(JSON.stringify(shown)).not.toContain(vivo.appSecret);
    await putApp(wrongBundle, { ...vivo.credentials(), app_secret: 'not-the-app-secret' });
  });
  afterAll(async () => {
    await t.close();
    await vivo.close();
  });

  /** The manual's registration call, as a vivo phone makes it: the vivo regId in `os_token`. */
  const register = (token: string, url: string, regId: string, extra: Record<string, unknown> = {}) =>
    calls.register(token, url, makerRegistration('VIVO', bundle, regId, { phone_model: 'V2309A', ...extra }));
  const myTokens = (token: string, url: string) => calls.registered(token, url);
  const statuses = (view: NotificationView) =>
    view.deliveries.map((delivery) => [delivery.token, delivery.status, delivery.reason]).sort();

  it('delivers a ring at once through message/send: system message, IM, sound and vibration, shortest TTL', async () => {
    const user = await registerUser(t.app);
    const regId = `ring-${user.id}`;
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
    const received = vivo.requests('send').find((entry) => entry.regIds[0] === regId);
    expect(result.deliveries[0]).toMatchObject({
      status: 'sent',
      provider: 'vivo',
      token: regId,
      provider_message_id: expect.stringMatching(/^\d+$/),
    });
    expect(received?.body).toMatchObject({
      appId: vivo.appId,
      regId,
      title: 'Türklingel',
      content: 'Jemand ist an der Tür',
      classification: 1,
      category: 'IM',
      notifyType: 4,
      timeToLive: 60,
      skipType: 1,
      clientCustomMap: { uid: 'U1', ring_id: id },
      requestId: result.deliveries[0]?.id,
    });
    expect(received?.headers.authtoken).toEqual(expect.any(String));
  });

  it('sends a message to many phones as one saveListPayload and pushToList lists of 1000 regIds', async () => {
    const user = await registerUser(t.app);
    const regIds = Array.from({ length: 1005 }, (_, i) => `fan-${user.id}-${i}`);
    for (let index = 0; index < regIds.length; index += 50) {
      await Promise.all(
        regIds
          .slice(index, index + 50)
          .map((regId) => register(user.token, '/v1/api/user/message/token', regId)),
      );
    }
    const before = { ...vivo.counts };
    const id = await send({
      channel: 'message',
      users: [user.id],
      title: 'Battery low',
      body: 'Front door lock',
      localized: { de: { title: 'Batterie schwach', body: 'Schloss an der Haustür' } },
    });
    // Each of the 1005 is recorded with vivo's taskId by a statement of its own: on PostgreSQL
    // and a loaded machine, over 30 s.
    const result = await settled(id, 120_000);
    expect(result.counts).toEqual({ sent: 1005 });
    expect({
      send: vivo.counts.send - before.send,
      saveListPayload: vivo.counts.saveListPayload - before.saveListPayload,
      pushToList: vivo.counts.pushToList - before.pushToList,
    }).toEqual({ send: 0, saveListPayload: 1, pushToList: 2 });
    const lists = vivo
      .requests('pushToList')
      .filter((entry) => entry.regIds[0]?.startsWith(`fan-${user.id}-`));
    expect(lists.map((entry) => entry.regIds.length).sort()).toEqual([1000, 5]);
    expect(new Set(lists.flatMap((entry) => entry.regIds))).toEqual(new Set(regIds));
    const payload = vivo.requests('saveListPayload').at(-1)?.body;
    expect(payload).toMatchObject({
      title: 'Batterie schwach',
      content: 'Schloss an der Haustür',
      classification: 1,
      category: 'DEVICE_REMINDER',
      notifyType: 4,
      timeToLive: 86_400,
    });
  }, 180_000);

  it('removes the registrations vivo reports dead: invalidUser 1 / 2 in a list, 10302 on its own', async () => {
    const user = await registerUser(t.app);
    const url = '/v1/api/user/message/token';
    // Short regIds: the delivery view shows long tokens shortened.
    const [alive, unknown, uninstalled] = ['ok', 'u1', 'u2'].map((name) => `${name}-${user.id}`);
    for (const regId of [alive, unknown, uninstalled]) await register(user.token, url, regId ?? '');
    vivo.script(unknown ?? '', { invalidUser: 1 });
    vivo.script(uninstalled ?? '', { invalidUser: 2 });
    const first = await settled(await send({ channel: 'message', users: [user.id], body: 'Motion' }));
    expect(statuses(first)).toEqual([
      [alive, 'sent', null],
      [unknown, 'invalid_token', 'invalid_user_1'],
      [uninstalled, 'invalid_token', 'invalid_user_2'],
    ]);
    expect(await myTokens(user.token, url)).toEqual([alive]);

    vivo.script(alive ?? '', { result: 10302 });
    const second = await settled(await send({ channel: 'message', users: [user.id], body: 'Motion' }));
    expect(statuses(second)).toEqual([[alive, 'invalid_token', 'vivo_10302']]);
    expect(await myTokens(user.token, url)).toEqual([]);
  });

  it('replaces an expired authToken once and sends again', async () => {
    const user = await registerUser(t.app);
    await register(user.token, '/v1/api/user/token', `expiry-${user.id}`);
    await settled(await send({ channel: 'ring', users: [user.id], title: 'Doorbell' }));
    const issued = vivo.tokensIssued;
    t.clock.advance(45 * 60_000);
    const mark = vivo.received.length;
    const result = await settled(await send({ channel: 'ring', users: [user.id], title: 'Doorbell' }));
    expect(result.deliveries[0]?.status).toBe('sent');
    expect(vivo.tokensIssued).toBe(issued + 1);
    // This phone's requests and the authentications only: work of other tests still under way
    // (its leases ran out when the clock jumped) would add its own requests.
    const own = vivo.received
      .slice(mark)
      .filter((entry) => entry.endpoint === 'auth' || entry.regIds[0] === `expiry-${user.id}`);
    expect(own.map((entry) => [entry.endpoint, entry.result])).toEqual([
      ['send', 10000],
      ['auth', 0],
      ['send', 0],
    ]);
  });

  it('flags the app when vivo refuses its AppSecret, and sends nothing', async () => {
    const user = await registerUser(t.app);
    await register(user.token, '/v1/api/user/token', `wrong-${user.id}`, { bundleid: wrongBundle });
    const sendsBefore = vivo.counts.send;
    const result = await settled(await send({ channel: 'ring', users: [user.id], title: 'Doorbell' }));
    expect(statuses(result)).toEqual([[`wrong-${user.id}`, 'failed', 'auth_vivo_10000']]);
    expect(vivo.counts.send).toBe(sendsBefore);
    const app = await eventually(async () => {
      const view = json<{ providers: { vivo: { flagged: { reason: string } | null } } }>(
        await t.app.inject({
          method: 'GET',
          url: `/v1/admin/apps/${wrongBundle}`,
          headers: { authorization: `Bearer ${key}` },
        }),
      );
      return view.providers.vivo.flagged === null ? undefined : view;
    }, 'the flag');
    expect(app.providers.vivo.flagged).toMatchObject({ reason: 'auth_vivo_10000' });
    expect(JSON.stringify(app)).not.toContain('not-the-app-secret');
  });

  it('retries a message refused for the daily quota after midnight in China', async () => {
    const user = await registerUser(t.app);
    const regId = `quota-${user.id}`;
    await register(user.token, '/v1/api/user/message/token', regId);
    vivo.script(regId, [{ result: 10070 }]);
    const id = await send({ channel: 'message', users: [user.id], title: 'Battery low' });
    const waiting = await calls.until(id, 'the retry', (view) => view.deliveries[0]?.status === 'retrying');
    expect(waiting.deliveries[0]).toMatchObject({ reason: 'vivo_10070', attempts: 1 });
    const row = await t.database.handle.db
      .selectFrom('deliveries')
      .select('due_at')
      .where('notification_id', '=', id)
      .executeTakeFirstOrThrow();
    const midnight = t.clock.now() + msUntilChinaMidnight(t.clock.now());
    expect(Number(row.due_at)).toBe(midnight);
    const accepted = () =>
      vivo.requests('send').filter((entry) => entry.regIds[0] === regId && entry.result === 0).length;
    expect(accepted()).toBe(0);

    t.clock.advance(midnight - t.clock.now());
    const result = await settled(id);
    expect(result.deliveries[0]).toMatchObject({ status: 'sent', attempts: 2 });
    expect(accepted()).toBe(1);
  });
});
