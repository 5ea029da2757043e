import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeFcm, startFakeFcm } from '../fakes/fcm-server.js';
import { json, registerUser, type TestApp, testDialects } from '../helpers/app.js';
import { ManualClock } from '../helpers/clock.js';
import { deliveryCalls, startDeliveryApp } from '../helpers/delivery.js';
import { eventually } from '../helpers/wait.js';

const bundle = 'com.example.android.doorbell';

describe.each(testDialects())('delivery through FCM on %s', (dialect) => {
  let t: TestApp;
  let fcm: FakeFcm;
  let key: string;
  const calls = deliveryCalls(() => ({ t, key }));
  const { send, settled } = calls;

  beforeAll(async () => {
    const clock = new ManualClock();
    fcm = await startFakeFcm({ clock });
    ({ t, key } = await startDeliveryApp(dialect, clock));
    await calls.putApp(bundle, { fcm: { ...fcm.credentials(), channel_id: 'alarms' } });
  });
  afterAll(async () => {
    await t.close();
    await fcm.close();
  });

  /** The manual's registration call, as an Android phone with Google services makes it. */
  const register = (token: string, url: string, pushToken: string, extra: Record<string, unknown> = {}) =>
    calls.register(token, url, {
      push_token: pushToken,
      language: 'de-DE',
      bundleid: bundle,
      os: 'Android',
      push_platform: 'FCM',
      ...extra,
    });

  it('delivers a ring as a high-priority data message with a short TTL', async () => {
    const user = await registerUser(t.app);
    const pushToken = `fcm-ring-${user.id}`;
    await register(user.token, '/v1/api/user/token', pushToken);
    const id = await send({
      channel: 'ring',
      users: [user.id],
      title: 'Doorbell',
      localized: { de: { title: 'Türklingel' } },
      data: { uid: 'U1' },
    });
    const result = await settled(id);
    expect(result.deliveries[0]).toMatchObject({
      status: 'sent',
      provider_message_id: expect.stringMatching(/^projects\/bellhop-test\/messages\//),
    });
    const received = fcm.received.find((entry) => entry.token === pushToken);
    expect(received).toBeDefined();
    const message = (received?.body as { message: Record<string, unknown> } | undefined)?.message ?? {};
    expect(message.notification).toBeUndefined();
    expect(message.data).toMatchObject({ uid: 'U1', ring_id: id, title: 'Türklingel' });
    expect(message.android).toMatchObject({ priority: 'HIGH', ttl: '30s', collapse_key: id });
    expect(received?.headers.authorization).toMatch(/^Bearer /);
  });

  it('delivers a message as a notification on the app’s channel, via the maker token when there is one', async () => {
    const user = await registerUser(t.app);
    await register(user.token, '/v1/api/user/message/token', `socket-${user.id}`, {
      os_token: `fcm-msg-${user.id}`,
    });
    const id = await send({
      channel: 'message',
      users: [user.id],
      title: 'Battery low',
      body: 'Front door lock',
    });
    await settled(id);
    const received = fcm.received.find((entry) => entry.token === `fcm-msg-${user.id}`);
    const message = (
      received?.body as { message: { notification: unknown; android: { notification: unknown } } } | undefined
    )?.message;
    expect(message?.notification).toEqual({ title: 'Battery low', body: 'Front door lock' });
    expect(message?.android.notification).toMatchObject({ channel_id: 'alarms' });
  });

  it('removes a registration FCM reports UNREGISTERED, and retries UNAVAILABLE', async () => {
    const user = await registerUser(t.app);
    await register(user.token, '/v1/api/user/message/token', `gone-${user.id}`);
    await register(user.token, '/v1/api/user/message/token', `busy-${user.id}`);
    fcm.script(`gone-${user.id}`, ['UNREGISTERED']);
    fcm.script(`busy-${user.id}`, [{ error: 'UNAVAILABLE', retryAfter: 5 }]);
    const id = await send({ channel: 'message', users: [user.id], body: 'x' });
    await eventually(async () => {
      const view = json<{ deliveries: Array<{ status: string }> }>(
        await t.app.inject({
          method: 'GET',
          url: `/v1/push/${id}`,
          headers: { authorization: `Bearer ${key}` },
        }),
      );
      return view.deliveries.some((delivery) => delivery.status === 'retrying') ? view : undefined;
    }, 'the retry');
    t.clock.advance(6_000);
    const result = await settled(id);
    expect(result.deliveries.map((delivery) => [delivery.status, delivery.reason]).sort()).toEqual([
      ['invalid_token', 'UNREGISTERED'],
      ['sent', null],
    ]);
    const rows = json<Array<{ push_token: string }>>(
      await t.app.inject({
        method: 'GET',
        url: '/v1/api/user/message/token',
        headers: { token: user.token },
      }),
    );
    expect(rows.map((row) => row.push_token)).toEqual([`busy-${user.id}`]);
  });

  it('asks the token endpoint once for many sends', async () => {
    const before = fcm.tokensIssued;
    const user = await registerUser(t.app);
    for (let i = 0; i < 5; i += 1)
      await register(user.token, '/v1/api/user/message/token', `many-${user.id}-${i}`);
    await settled(await send({ channel: 'message', users: [user.id], body: 'x' }));
    expect(fcm.tokensIssued - before).toBe(0);
    expect(fcm.tokensIssued).toBe(1);
  });
});
