import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { scriptedProvider } from '../fakes/scripted-provider.js';
import { createTestApp, json, registerUser, type TestApp, testDialects } from '../helpers/app.js';
import { eventually } from '../helpers/wait.js';

interface Notification {
  id: string;
  state: string;
  targets: number;
  counts: Record<string, number>;
  deliveries: Array<{
    id: string;
    user_id: number;
    provider: string;
    token: string;
    status: string;
    reason: string | null;
    attempts: number;
    provider_message_id: string | null;
  }>;
}

const bundle = 'com.example.doorbell';

describe.each(testDialects())('delivery pipeline on %s', (dialect) => {
  let t: TestApp;
  let apns: ReturnType<typeof scriptedProvider>;
  let fcm: ReturnType<typeof scriptedProvider>;
  let adminKey: string;
  let sendKey: string;

  beforeAll(async () => {
    apns = scriptedProvider('apns');
    fcm = scriptedProvider('fcm');
    t = await createTestApp(
      dialect,
      { WORKER_POLL_MS: '20' },
      { catalogue: { apns: apns.module, fcm: fcm.module }, worker: true },
    );
    adminKey = (await t.services.apiKeys.create('admin', ['admin'])).key;
    sendKey = (await t.services.apiKeys.create('doorbell cloud', ['send'])).key;
    const put = await t.app.inject({
      method: 'PUT',
      url: `/v1/admin/apps/${bundle}`,
      headers: { authorization: `Bearer ${adminKey}` },
      payload: {
        name: 'Doorbell',
        default_language: 'de',
        mode: 'live',
        apns: { secret: 'apns-secret-value-0123456789' },
        fcm: { secret: 's2' },
      },
    });
    expect(put.statusCode).toBe(201);
  });
  afterAll(async () => t.close());
  beforeEach(() => {
    apns.sent.length = 0;
    fcm.sent.length = 0;
  });

  const send = (payload: Record<string, unknown>, key = sendKey) =>
    t.app.inject({ method: 'POST', url: '/v1/push', headers: { authorization: `Bearer ${key}` }, payload });
  const read = async (id: string) =>
    json<Notification>(
      await t.app.inject({
        method: 'GET',
        url: `/v1/push/${id}`,
        headers: { authorization: `Bearer ${sendKey}` },
      }),
    );
  const settled = (id: string) =>
    eventually(async () => {
      const notification = await read(id);
      return notification.state === 'pending' ? undefined : notification;
    }, `notification ${id} to settle`);
  const registerToken = async (token: string, url: string, payload: Record<string, unknown>) => {
    const response = await t.app.inject({
      method: 'POST',
      url,
      headers: { token },
      payload: { bundleid: bundle, ...payload },
    });
    expect(response.statusCode).toBe(201);
  };

  it('fans a ring out to every phone of the user, localized, and records each', async () => {
    const user = await registerUser(t.app);
    await registerToken(user.token, '/v1/api/user/token', {
      push_token: `a1${user.id}`.padEnd(64, 'a'),
      language: 'zh-Hant-TW',
      os: 'iOS',
    });
    await registerToken(user.token, '/v1/api/user/token', {
      push_token: `fcm-${user.id}`,
      language: 'fr',
      push_platform: 'FCM',
    });
    await registerToken(user.token, '/v1/api/user/token', {
      push_token: `socket-${user.id}`,
      language: 'en',
      os: 'Android',
      push_platform: 'android',
    });
    await registerToken(user.token, '/v1/api/user/message/token', {
      push_token: `msg-${user.id}`,
      language: 'en',
    });

    const accepted = await send({
      channel: 'ring',
      users: [user.id],
      title: 'Doorbell',
      body: 'Someone is at the door',
      localized: {
        'zh-Hant': { title: '門鈴', body: '有人在門口' },
        de: { title: 'Türklingel', body: 'Jemand ist an der Tür' },
      },
      data: { uid: 'ABCDEFGHIJKLMNOPQRST', type: '1' },
    });
    expect(accepted.statusCode).toBe(202);
    const { id, targets } = json<{ id: string; targets: number }>(accepted);
    expect(targets).toBe(3);

    const result = await settled(id);
    expect(result.counts).toEqual({ sent: 2, no_route: 1 });
    const byProvider = Object.fromEntries(result.deliveries.map((delivery) => [delivery.provider, delivery]));
    expect(byProvider.none).toMatchObject({ status: 'no_route', reason: 'no_route', attempts: 0 });
    expect(byProvider.apns).toMatchObject({ status: 'sent', attempts: 1 });
    expect(byProvider.apns?.token).toMatch(/^a1.{4}…aaaa$/);

    const [ios] = apns.sent;
    expect(ios).toMatchObject({
      channel: 'ring',
      bundleId: bundle,
      environment: 'production',
      title: '門鈴',
      body: '有人在門口',
      data: { uid: 'ABCDEFGHIJKLMNOPQRST', type: '1', ring_id: id },
      collapseId: id,
      deliveryId: byProvider.apns?.id,
    });
    // French is not offered: the app's default language (de) is next.
    expect(fcm.sent[0]).toMatchObject({ title: 'Türklingel', token: `fcm-${user.id}`, environment: null });
    expect((ios?.expiresAt ?? 0) - t.clock.now()).toBe(30_000);
  });

  it('sends messages only to message registrations, with sandbox for dev builds', async () => {
    const user = await registerUser(t.app);
    await registerToken(user.token, '/v1/api/user/message/token', {
      push_token: `dev-${user.id}`,
      language: 'en',
      dev: 1,
    });
    await registerToken(user.token, '/v1/api/user/token', { push_token: `ring-${user.id}`, language: 'en' });
    const { id } = json<{ id: string }>(
      await send({ channel: 'message', users: [user.id], title: 'Battery low', badge: 3, sound: 'default' }),
    );
    await settled(id);
    expect(apns.sent).toHaveLength(1);
    expect(apns.sent[0]).toMatchObject({
      channel: 'message',
      token: `dev-${user.id}`,
      environment: 'sandbox',
      badge: 3,
      sound: 'default',
      collapseId: undefined,
    });
    expect((apns.sent[0]?.expiresAt ?? 0) - t.clock.now()).toBe(24 * 3600 * 1000);
  });

  it('records app_not_configured for registrations of unknown apps or missing credentials', async () => {
    const user = await registerUser(t.app);
    await registerToken(user.token, '/v1/api/user/token', {
      push_token: `other-${user.id}`,
      language: 'en',
      bundleid: 'com.unknown.app',
    });
    await t.app.inject({
      method: 'PUT',
      url: '/v1/admin/apps/com.example.apnsonly',
      headers: { authorization: `Bearer ${adminKey}` },
      payload: { apns: { secret: 'x' } },
    });
    await registerToken(user.token, '/v1/api/user/token', {
      push_token: `hw-${user.id}`,
      language: 'en',
      bundleid: 'com.example.apnsonly',
      push_platform: 'FCM',
    });
    const { id, targets } = json<{ id: string; targets: number }>(
      await send({ channel: 'ring', users: [user.id] }),
    );
    expect(targets).toBe(2);
    const result = await settled(id);
    expect(result.deliveries.map((delivery) => [delivery.status, delivery.reason])).toEqual([
      ['failed', 'app_not_configured'],
      ['failed', 'app_not_configured'],
    ]);
  });

  it('removes a dead token’s registration and says why', async () => {
    const user = await registerUser(t.app);
    const token = `dead-${user.id}`;
    await registerToken(user.token, '/v1/api/user/message/token', { push_token: token, language: 'en' });
    apns.script(token, [{ ok: false, failure: 'dead', reason: 'Unregistered' }]);
    const { id } = json<{ id: string }>(await send({ channel: 'message', users: [user.id], body: 'x' }));
    const result = await settled(id);
    expect(result.deliveries[0]).toMatchObject({
      status: 'invalid_token',
      reason: 'Unregistered',
      attempts: 1,
    });
    const list = await t.app.inject({
      method: 'GET',
      url: '/v1/api/user/message/token',
      headers: { token: user.token },
    });
    expect(json<unknown[]>(list)).toEqual([]);
  });

  it('retries with backoff, then succeeds', async () => {
    const user = await registerUser(t.app);
    const token = `flaky-${user.id}`;
    await registerToken(user.token, '/v1/api/user/message/token', { push_token: token, language: 'en' });
    apns.script(token, [
      { ok: false, failure: 'retry', reason: 'ServiceUnavailable' },
      { ok: false, failure: 'retry', reason: 'TooManyRequests', retryAfterMs: 60_000 },
    ]);
    const { id } = json<{ id: string }>(await send({ channel: 'message', users: [user.id], body: 'x' }));
    const first = await eventually(async () => {
      const notification = await read(id);
      return notification.deliveries[0]?.status === 'retrying' ? notification : undefined;
    }, 'the first retry');
    expect(first.deliveries[0]).toMatchObject({ reason: 'ServiceUnavailable', attempts: 1 });
    t.clock.advance(2_000);
    const second = await eventually(async () => {
      const notification = await read(id);
      return notification.deliveries[0]?.attempts === 2 ? notification : undefined;
    }, 'the second attempt');
    expect(second.deliveries[0]).toMatchObject({ status: 'retrying', reason: 'TooManyRequests' });
    // Retry-After (60 s) is honoured: 10 s later the worker finds nothing due.
    t.clock.advance(10_000);
    await t.worker.considered();
    expect((await read(id)).deliveries[0]).toMatchObject({ status: 'retrying', attempts: 2 });
    expect(apns.sent.filter((message) => message.token === token)).toHaveLength(2);
    t.clock.advance(60_000);
    const done = await settled(id);
    expect(done.deliveries[0]).toMatchObject({ status: 'sent', attempts: 3 });
    expect(apns.sent.filter((message) => message.token === token)).toHaveLength(3);
    expect(new Set(apns.sent.map((message) => message.deliveryId)).size).toBe(1);
  });

  it('never sends a ring late: one whose TTL passed while retrying is expired', async () => {
    const user = await registerUser(t.app);
    const token = `late-${user.id}`;
    await registerToken(user.token, '/v1/api/user/token', { push_token: token, language: 'en' });
    apns.script(token, [{ ok: false, failure: 'retry', reason: 'ServiceUnavailable', retryAfterMs: 40_000 }]);
    const { id } = json<{ id: string }>(await send({ channel: 'ring', users: [user.id], ttl: 30 }));
    const result = await settled(id);
    expect(result.deliveries[0]).toMatchObject({ status: 'expired', attempts: 1 });
    t.clock.advance(120_000);
    await t.worker.considered();
    expect((await read(id)).deliveries[0]).toMatchObject({ status: 'expired', attempts: 1 });
    expect(apns.sent.filter((message) => message.token === token)).toHaveLength(1);
  });

  it('expires a queued ring whose TTL passed before a worker got to it', async () => {
    const user = await registerUser(t.app);
    await registerToken(user.token, '/v1/api/user/token', { push_token: `q-${user.id}`, language: 'en' });
    await t.worker.stop();
    try {
      const { id } = json<{ id: string }>(await send({ channel: 'ring', users: [user.id] }));
      t.clock.advance(31_000);
      t.worker.start();
      const result = await settled(id);
      expect(result.deliveries[0]).toMatchObject({ status: 'expired', reason: 'ttl_passed', attempts: 0 });
      expect(apns.sent).toEqual([]);
    } finally {
      t.worker.start();
    }
  });

  it('flags the app when the provider rejects its credentials', async () => {
    const user = await registerUser(t.app);
    const token = `creds-${user.id}`;
    await t.app.inject({
      method: 'PUT',
      url: '/v1/admin/apps/com.example.badcreds',
      headers: { authorization: `Bearer ${adminKey}` },
      payload: { apns: { secret: 'wrong' } },
    });
    await registerToken(user.token, '/v1/api/user/token', {
      push_token: token,
      language: 'en',
      bundleid: 'com.example.badcreds',
    });
    apns.script(token, [{ ok: false, failure: 'creds', reason: 'InvalidProviderToken' }]);
    const { id } = json<{ id: string }>(await send({ channel: 'ring', users: [user.id] }));
    expect((await settled(id)).deliveries[0]).toMatchObject({
      status: 'failed',
      reason: 'InvalidProviderToken',
    });
    const app = await eventually(async () => {
      const view = json<{ providers: { apns: { flagged: { reason: string } | null } } }>(
        await t.app.inject({
          method: 'GET',
          url: '/v1/admin/apps/com.example.badcreds',
          headers: { authorization: `Bearer ${adminKey}` },
        }),
      );
      return view.providers.apns.flagged === null ? undefined : view;
    }, 'the flag');
    expect(app.providers.apns.flagged?.reason).toBe('InvalidProviderToken');
  });

  it('returns the same notification for the same idempotency key', async () => {
    const user = await registerUser(t.app);
    await registerToken(user.token, '/v1/api/user/message/token', {
      push_token: `idem-${user.id}`,
      language: 'en',
    });
    const payload = {
      channel: 'message',
      users: [user.id],
      body: 'once',
      idempotency_key: `alarm-${user.id}`,
    };
    const first = json<{ id: string }>(await send(payload));
    const second = await send(payload);
    expect(second.statusCode).toBe(202);
    expect(json<{ id: string }>(second).id).toBe(first.id);
    await settled(first.id);
    expect(apns.sent.filter((message) => message.token === `idem-${user.id}`)).toHaveLength(1);
    t.clock.advance(24 * 3600 * 1000 + 1);
    expect(json<{ id: string }>(await send(payload)).id).not.toBe(first.id);
  });

  it('cancels a ring: a cancel to the phones it reached, with the same collapse id', async () => {
    const user = await registerUser(t.app);
    await registerToken(user.token, '/v1/api/user/token', { push_token: `c1-${user.id}`, language: 'en' });
    await registerToken(user.token, '/v1/api/user/token', { push_token: `c2-${user.id}`, language: 'en' });
    const { id } = json<{ id: string }>(
      await send({ channel: 'ring', users: [user.id], collapse_id: 'call-42', data: { uid: 'X' } }),
    );
    await settled(id);
    const cancel = await t.app.inject({
      method: 'POST',
      url: `/v1/push/${id}/cancel`,
      headers: { authorization: `Bearer ${sendKey}` },
    });
    expect(cancel.statusCode).toBe(202);
    const cancelled = json<{ id: string; targets: number }>(cancel);
    expect(cancelled.targets).toBe(2);
    await settled(cancelled.id);
    const cancels = apns.sent.filter((message) => message.data.type === 'cancel');
    expect(cancels.map((message) => message.token).sort()).toEqual([`c1-${user.id}`, `c2-${user.id}`]);
    expect(cancels[0]).toMatchObject({
      channel: 'ring',
      collapseId: 'call-42',
      data: { uid: 'X', type: 'cancel', ring_id: id },
    });
    expect((await read(id)).state).toBe('cancelled');

    const message = json<{ id: string }>(await send({ channel: 'message', users: [user.id] }));
    const refused = await t.app.inject({
      method: 'POST',
      url: `/v1/push/${message.id}/cancel`,
      headers: { authorization: `Bearer ${sendKey}` },
    });
    expect(refused.statusCode).toBe(409);
  });

  it('shows and cancels a notification only to the key that sent it, and to admin keys', async () => {
    const other = (await t.services.apiKeys.create('another cloud', ['send'])).key;
    const user = await registerUser(t.app);
    await registerToken(user.token, '/v1/api/user/token', { push_token: `own-${user.id}`, language: 'en' });
    const { id } = json<{ id: string }>(await send({ channel: 'ring', users: [user.id] }));
    await settled(id);
    const as = (key: string, method: 'GET' | 'POST', url: string) =>
      t.app.inject({ method, url, headers: { authorization: `Bearer ${key}` } });
    const notFound = { message: 'no data error', code: 'NOT_FOUND' };
    for (const url of [`/v1/push/${id}`, `/v1/push/${id}?after=0&limit=1`]) {
      const foreign = await as(other, 'GET', url);
      expect(foreign.statusCode).toBe(404);
      expect(json(foreign)).toEqual(notFound);
      expect((await as(sendKey, 'GET', url)).statusCode).toBe(200);
      expect((await as(adminKey, 'GET', url)).statusCode).toBe(200);
    }
    const foreignCancel = await as(other, 'POST', `/v1/push/${id}/cancel`);
    expect(foreignCancel.statusCode).toBe(404);
    expect(json(foreignCancel)).toEqual(notFound);
    expect((await read(id)).state).toBe('done');

    const cancel = await as(sendKey, 'POST', `/v1/push/${id}/cancel`);
    expect(cancel.statusCode).toBe(202);
    const cancelId = json<{ id: string }>(cancel).id;
    expect((await as(other, 'GET', `/v1/push/${cancelId}`)).statusCode).toBe(404);
    expect((await as(sendKey, 'GET', `/v1/push/${cancelId}`)).statusCode).toBe(200);

    const byOther = json<{ id: string }>(await send({ channel: 'ring', users: [user.id] }, other));
    expect((await as(sendKey, 'GET', `/v1/push/${byOther.id}`)).statusCode).toBe(404);
    expect((await as(sendKey, 'POST', `/v1/push/${byOther.id}/cancel`)).statusCode).toBe(404);
    expect((await as(adminKey, 'POST', `/v1/push/${byOther.id}/cancel`)).statusCode).toBe(202);
    expect((await as(other, 'GET', `/v1/push/${byOther.id}`)).json()).toMatchObject({ state: 'cancelled' });
  });

  it('fans out to more users than one page holds', async () => {
    const db = t.database.handle.db;
    const now = t.clock.now();
    const userIds: number[] = [];
    for (let batch = 0; batch < 3; batch += 1) {
      const rows = Array.from({ length: 450 }, (_, index) => ({
        username: `page_${batch}_${index}_${now}`.slice(0, 32),
        username_key: `page_${batch}_${index}_${now}`.slice(0, 32),
        email: null,
        phone: null,
        password_hash: null,
        created_at: now,
        updated_at: now,
      }));
      const inserted = await db.insertInto('users').values(rows).returning('id').execute();
      userIds.push(...inserted.map((row) => row.id));
    }
    for (let index = 0; index < userIds.length; index += 200) {
      await db
        .insertInto('registrations')
        .values(
          userIds.slice(index, index + 200).map((userId) => ({
            user_id: userId,
            session_id: null,
            channel: 'message' as const,
            push_token: `page-${userId}`,
            language: 'en',
            dev: 0,
            bundleid: bundle,
            os: '',
            os_token: '',
            push_platform: '',
            phone_model: '',
            provider: 'apns',
            provider_token: `page-${userId}`,
            apns_environment: 'production',
            created_at: now,
            updated_at: now,
          })),
        )
        .execute();
    }
    const accepted = await send({
      channel: 'message',
      users: [...userIds, ...userIds.slice(0, 10), 99_999_999],
      body: 'all',
    });
    expect(accepted.statusCode).toBe(202);
    const { id, targets } = json<{ id: string; targets: number }>(accepted);
    expect(targets).toBe(1350);
    const result = await settled(id);
    expect(result.counts).toEqual({ sent: 1350 });
    expect(new Set(apns.sent.map((message) => message.token)).size).toBe(1350);
  });

  it('counts deliveries, retries and latency in /metrics', async () => {
    const metrics = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/bellhop_deliveries_total\{provider="apns",channel="ring",status="sent"\} [1-9]/);
    expect(metrics).toMatch(
      /bellhop_deliveries_total\{provider="none",channel="ring",status="no_route"\}|bellhop_deliveries_total\{provider="apns",channel="ring",status="expired"\} [1-9]/,
    );
    expect(metrics).toMatch(/bellhop_delivery_retries_total\{provider="apns"\} [1-9]/);
    expect(metrics).toMatch(
      /bellhop_delivery_accept_to_provider_seconds_count\{provider="apns",channel="ring"\} [1-9]/,
    );
    expect(metrics).toMatch(/bellhop_delivery_queue_depth \d+/);
  });

  it('prunes notifications, deliveries and inbox entries past the retention', async () => {
    const user = await registerUser(t.app);
    await registerToken(user.token, '/v1/api/user/message/token', {
      push_token: `old-${user.id}`,
      language: 'en',
    });
    const old = json<{ id: string }>(await send({ channel: 'message', users: [user.id], body: 'old' })).id;
    await settled(old);
    t.clock.advance(7 * 24 * 3600 * 1000 + 1);
    const recent = json<{ id: string }>(await send({ channel: 'message', users: [user.id], body: 'new' })).id;
    await settled(recent);
    await t.services.worker.prune();
    const readStatus = async (id: string) =>
      (
        await t.app.inject({
          method: 'GET',
          url: `/v1/push/${id}`,
          headers: { authorization: `Bearer ${sendKey}` },
        })
      ).statusCode;
    expect(await readStatus(old)).toBe(404);
    expect(await readStatus(recent)).toBe(200);
    const orphans = await t.database.handle.db
      .selectFrom('deliveries')
      .select('id')
      .where('notification_id', '=', old)
      .execute();
    expect(orphans).toEqual([]);
  });

  it('guards the send and admin APIs with scoped keys', async () => {
    expect((await send({ channel: 'ring', users: [1] }, 'not-a-key')).statusCode).toBe(401);
    const noKey = await t.app.inject({
      method: 'POST',
      url: '/v1/push',
      payload: { channel: 'ring', users: [1] },
    });
    expect(noKey.statusCode).toBe(401);
    expect(json(noKey)).toEqual({ message: 'no api key', code: 'NO_API_KEY' });
    const admin = await t.app.inject({
      method: 'GET',
      url: '/v1/admin/apps',
      headers: { authorization: `Bearer ${sendKey}` },
    });
    expect(admin.statusCode).toBe(403);
    const revoked = await t.services.apiKeys.create('temporary', ['send']);
    await t.app.inject({
      method: 'DELETE',
      url: `/v1/admin/keys/${revoked.id}`,
      headers: { authorization: `Bearer ${adminKey}` },
    });
    expect((await send({ channel: 'ring', users: [1] }, revoked.key)).statusCode).toBe(401);
  });

  it('keeps secrets write-only: GET shows a fingerprint, the table holds ciphertext', async () => {
    const view = json<{ providers: { apns: Record<string, unknown> } }>(
      await t.app.inject({
        method: 'GET',
        url: `/v1/admin/apps/${bundle}`,
        headers: { authorization: `Bearer ${adminKey}` },
      }),
    );
    expect(view.providers.apns).toEqual({
      kind: 'scripted',
      fingerprint: expect.stringMatching(/^[0-9a-f]{16}$/),
      flagged: null,
    });
    const row = await t.database.handle.db
      .selectFrom('apps')
      .selectAll()
      .where('bundleid', '=', bundle)
      .executeTakeFirstOrThrow();
    expect(row.secrets).toMatch(/^v1\./);
    expect(row.secrets).not.toContain('apns-secret-value');
    const bad = await t.app.inject({
      method: 'PUT',
      url: `/v1/admin/apps/${bundle}`,
      headers: { authorization: `Bearer ${adminKey}` },
      payload: { apns: { nope: true } },
    });
    expect(bad.statusCode).toBe(400);
  });
});
