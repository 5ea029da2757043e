import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelServer } from '../../src/channel/server.js';
import { type FakeFcm, startFakeFcm } from '../fakes/fcm-server.js';
import { createTestApp, registerUser, type TestApp, testDialects } from '../helpers/app.js';
import { ChannelPhone } from '../helpers/channel-client.js';
import { bundle, identity, startChannel, tlsMaterial, unconfigured } from '../helpers/channel-testbed.js';
import { ManualClock } from '../helpers/clock.js';
import { pushApi } from '../helpers/push.js';
import { eventually } from '../helpers/wait.js';

describe.each(testDialects())('the push channel delivers on %s', (dialect) => {
  let t: TestApp;
  let fcm: FakeFcm;
  let server: ChannelServer;
  let key: string;
  const phones: ChannelPhone[] = [];

  beforeAll(async () => {
    const clock = new ManualClock();
    fcm = await startFakeFcm({ clock });
    t = await createTestApp(
      dialect,
      // Waiting deliveries are looked at again only after an hour: only a reconnection or
      // the TTL moves them in these tests.
      { WORKER_POLL_MS: '20', CHANNEL_OFFLINE_RECHECK_MS: '3600000' },
      { worker: true, clock },
    );
    server = await startChannel(t);
    key = (await t.services.apiKeys.create('admin', ['admin'])).key;
    const put = await t.app.inject({
      method: 'PUT',
      url: `/v1/admin/apps/${bundle}`,
      headers: { authorization: `Bearer ${key}` },
      payload: { name: 'Doorbell', mode: 'live', fcm: fcm.credentials() },
    });
    expect(put.statusCode, put.body).toBe(201);
  });
  afterAll(async () => {
    for (const phone of phones) phone.socket.destroy();
    await server.close();
    await t.close();
    await fcm.close();
  });

  const connect = async () => {
    const phone = await ChannelPhone.connect(server.port, tlsMaterial.cert);
    phones.push(phone);
    return phone;
  };
  const push = () => pushApi(t.app, key);
  /** The manual's registration call, as a Lancens Android client makes it after connecting. */
  const registerToken = async (
    session: string,
    url: string,
    pushToken: string,
    bundleid: string,
    extra: Record<string, unknown> = {},
  ) => {
    const response = await t.app.inject({
      method: 'POST',
      url,
      headers: { token: session, 'content-type': 'application/json' },
      payload: {
        push_token: pushToken,
        push_platform: 'android',
        language: 'en',
        os_token: '',
        os: 'Android',
        os_push_version: 1,
        bundleid,
        phone_model: 'Pixel 8',
        ...extra,
      },
    });
    expect(response.statusCode, response.body).toBe(201);
  };
  const deliveryOf = async (id: string) => (await push().read(id)).deliveries[0];
  /** Closes the phone's side and waits until the server has seen it go. */
  const hangUp = async (phone: ChannelPhone, token: string) => {
    await phone.close();
    await eventually(
      async () => ((await t.services.channelBus.isOnline(token)) ? undefined : true),
      'the server to see the phone go',
    );
  };

  it('issues a token, and the same one on every reconnection', async () => {
    const phone = await connect();
    const me = identity();
    const token = await phone.register(me);
    expect(token).toMatch(/^bhc1_[A-Za-z0-9_-]{32}$/);
    await phone.close();
    const again = await connect();
    expect(await again.register(me)).toBe(token);
    const other = await connect();
    expect(await other.register({ ...me, imei: `${me.imei}9` })).not.toBe(token);
  });

  it('delivers a ring and a message as event frames, with the fields Lancens clients read', async () => {
    const phone = await connect();
    const token = await phone.register(identity());
    const user = await registerUser(t.app);
    await registerToken(user.token, '/v1/api/user/token', token, unconfigured);
    await registerToken(user.token, '/v1/api/user/message/token', token, unconfigured);
    const listed = (
      await t.app.inject({ method: 'GET', url: '/v1/api/user/token', headers: { token: user.token } })
    ).json() as Array<{ provider: string }>;
    expect(listed).toMatchObject([{ provider: 'channel' }]);

    const ringId = await push().send({
      channel: 'ring',
      users: [user.id],
      title: 'Front door',
      body: 'Someone is at the door',
      data: { uid: 'ABCDEFGHIJKLMNOPQRST', device: 'Front door', type: '1', guid: 'evt-1' },
    });
    const ring = await phone.event();
    expect(ring).toMatchObject({
      channel: 'ring',
      title: 'Front door',
      body: 'Someone is at the door',
      aps: { alert: 'Someone is at the door', sound: 'default', name: 'Front door' },
      uid: 'ABCDEFGHIJKLMNOPQRST',
      device: 'Front door',
      type: '1',
      guid: 'evt-1',
      ring_id: ringId,
      data: { uid: 'ABCDEFGHIJKLMNOPQRST', device: 'Front door', type: '1', guid: 'evt-1', ring_id: ringId },
    });
    const ringView = await push().settled(ringId);
    // The channel answers without a message id of its own: none is recorded, not ours.
    expect(ringView.deliveries[0]).toMatchObject({
      provider: 'channel',
      status: 'sent',
      provider_message_id: null,
    });
    expect(ring.id).toBe(ringView.deliveries[0]?.id);

    const messageId = await push().send({
      channel: 'message',
      users: [user.id],
      title: 'Battery low',
      body: 'Front door lock at 10%',
      data: { uid: 'ABCDEFGHIJKLMNOPQRST', type: '4' },
    });
    expect(await phone.event()).toMatchObject({
      channel: 'message',
      title: 'Battery low',
      body: 'Front door lock at 10%',
      aps: { alert: 'Front door lock at 10%', name: 'Battery low' },
      type: '4',
    });
    expect((await push().settled(messageId)).deliveries[0]).toMatchObject({
      provider: 'channel',
      status: 'sent',
    });
  });

  it('sends through the phone maker’s channel when the phone is not connected and has a maker token', async () => {
    const me = identity(bundle);
    const phone = await connect();
    const token = await phone.register(me);
    const user = await registerUser(t.app);
    await registerToken(user.token, '/v1/api/user/token', token, bundle, {
      push_platform: 'FCM',
      os_token: `fcm-fallback-${user.id}`,
    });
    await hangUp(phone, token);
    const id = await push().send({ channel: 'ring', users: [user.id], title: 'Front door' });
    const view = await push().settled(id);
    expect(view.deliveries[0]).toMatchObject({ provider: 'fcm', status: 'sent' });
    const received = fcm.received.find((entry) => entry.token === `fcm-fallback-${user.id}`);
    expect(received).toBeDefined();
    const body = received?.body as { message: { data: Record<string, string> } } | undefined;
    expect(body?.message.data).toMatchObject({ ring_id: id });

    // Connected again: the channel, not the maker.
    const back = await connect();
    await back.register(me);
    const again = await push().send({ channel: 'ring', users: [user.id], title: 'Front door' });
    expect(await back.event()).toMatchObject({ ring_id: again });
    expect((await push().settled(again)).deliveries[0]).toMatchObject({
      provider: 'channel',
      status: 'sent',
    });
  });

  it('keeps a ring for a phone without a maker token until it reconnects within the TTL, and expires it after', async () => {
    const me = identity();
    const phone = await connect();
    const token = await phone.register(me);
    const user = await registerUser(t.app);
    await registerToken(user.token, '/v1/api/user/token', token, unconfigured);
    await registerToken(user.token, '/v1/api/user/message/token', token, unconfigured);
    await hangUp(phone, token);

    const early = await push().send({ channel: 'ring', users: [user.id], title: 'Within the TTL' });
    await eventually(async () => {
      const delivery = await deliveryOf(early);
      return delivery?.status === 'retrying' && delivery.reason === 'offline' ? delivery : undefined;
    }, 'the ring to wait for the phone');
    t.clock.advance(10_000);
    const back = await connect();
    expect(await back.register(me)).toBe(token);
    expect(await back.event()).toMatchObject({ title: 'Within the TTL', ring_id: early });
    expect((await push().settled(early)).deliveries[0]).toMatchObject({
      provider: 'channel',
      status: 'sent',
    });
    await hangUp(back, token);

    const late = await push().send({ channel: 'ring', users: [user.id], title: 'Too late' });
    await eventually(async () => {
      const delivery = await deliveryOf(late);
      return delivery?.status === 'retrying' ? delivery : undefined;
    }, 'the second ring to wait');
    t.clock.advance(31_000);
    expect((await push().settled(late)).deliveries[0]).toMatchObject({ status: 'expired' });

    // On reconnection the expired ring is not delivered: the next event is a new message.
    const third = await connect();
    await third.register(me);
    await push().send({ channel: 'message', users: [user.id], title: 'After the ring' });
    expect(await third.event()).toMatchObject({ title: 'After the ring' });
  });

  it('delivers a message fanned out to many connected phones', async () => {
    const users = [];
    const connected: ChannelPhone[] = [];
    for (let index = 0; index < 20; index += 1) {
      const phone = await connect();
      const user = await registerUser(t.app);
      await registerToken(
        user.token,
        '/v1/api/user/message/token',
        await phone.register(identity()),
        unconfigured,
      );
      users.push(user.id);
      connected.push(phone);
    }
    const id = await push().send({ channel: 'message', users, title: 'Storm warning' });
    const events = await Promise.all(connected.map((phone) => phone.event()));
    expect(events.every((event) => event.title === 'Storm warning')).toBe(true);
    const view = await push().settled(id);
    expect(view.counts).toEqual({ sent: 20 });
  });
});
