import { describe, expect, it } from 'vitest';
import { json, registerUser, testDialects } from '../helpers/app.js';
import {
  adminKey,
  apns,
  bundle,
  fcm,
  read,
  registerToken,
  send,
  settled,
  t,
  useDeliveryTestbed,
} from '../helpers/delivery-pipeline.js';
import { eventually } from '../helpers/wait.js';

describe.each(testDialects())('delivery pipeline on %s', (dialect) => {
  useDeliveryTestbed(dialect);

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

  // Reads the counters the tests above moved: a sent, an expired and a retried ring; keep it last.
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
});
