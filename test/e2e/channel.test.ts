import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSelfSignedCertificate } from '../../src/channel/certificate.js';
import { Command } from '../../src/channel/frames.js';
import { type ChannelServer, startChannelServer } from '../../src/channel/server.js';
import { type FakeFcm, startFakeFcm } from '../fakes/fcm-server.js';
import { createTestApp, registerUser, type TestApp, testDialects } from '../helpers/app.js';
import { ChannelPhone, type PhoneIdentity } from '../helpers/channel-client.js';
import { ManualClock } from '../helpers/clock.js';
import { expectedError } from '../helpers/error-contract.js';
import { pushApi } from '../helpers/push.js';
import { eventually } from '../helpers/wait.js';

const tlsMaterial = createSelfSignedCertificate('localhost');
/** An app with FCM credentials: the fallback for phones that also have a maker token. */
const bundle = 'com.example.channel.doorbell';
/** Not configured at all: the channel delivers for it anyway. */
const unconfigured = 'com.example.channel.unconfigured';

let phoneCounter = 0;
function identity(bundleId = unconfigured): PhoneIdentity {
  phoneCounter += 1;
  return { imei: `86${process.pid}${phoneCounter}`, imsi: `46000${phoneCounter}`, bundle_id: bundleId };
}

async function startChannel(t: TestApp, handshakeTimeoutMs = 10_000): Promise<ChannelServer> {
  return startChannelServer(t.services.channel, {
    port: 0,
    host: '127.0.0.1',
    tls: tlsMaterial,
    handshakeTimeoutMs,
  });
}

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

describe('the push channel protocol', () => {
  let t: TestApp;
  let server: ChannelServer;
  let key: string;

  beforeAll(async () => {
    t = await createTestApp(
      'sqlite',
      {
        WORKER_POLL_MS: '20',
        CHANNEL_REGISTER_TIMEOUT_MS: '1000',
        CHANNEL_HEARTBEAT_MS: '100',
        CHANNEL_IDLE_TIMEOUT_MS: '2000',
      },
      { worker: true },
    );
    server = await startChannel(t, 1000);
    key = (await t.services.apiKeys.create('admin', ['admin'])).key;
  });
  afterAll(async () => {
    await server.close();
    await t.close();
  });

  /** A registered phone whose user has it as their message token. */
  async function healthyPhone() {
    const phone = await ChannelPhone.connect(server.port, tlsMaterial.cert);
    const token = await phone.register(identity());
    const user = await registerUser(t.app);
    const response = await t.app.inject({
      method: 'POST',
      url: '/v1/api/user/message/token',
      headers: { token: user.token },
      payload: { push_token: token, language: 'en', push_platform: 'android', os: 'Android' },
    });
    expect(response.statusCode).toBe(201);
    return { phone, user };
  }

  async function stillDelivers(healthy: Awaited<ReturnType<typeof healthyPhone>>, title: string) {
    await pushApi(t.app, key).send({ channel: 'message', users: [healthy.user.id], title });
    expect(await healthy.phone.event()).toMatchObject({ title });
  }

  const header = (command: number, length: number) => {
    const bytes = Buffer.alloc(8);
    bytes.writeInt32LE(command, 0);
    bytes.writeInt32LE(length, 4);
    return bytes;
  };

  it.each([
    ['a frame longer than 64 KiB', () => header(Command.register, 64 * 1024 + 1)],
    ['a negative length', () => header(Command.heartbeat, -1)],
    ['an unknown command', () => header(7, 2)],
    [
      'a register frame that is not JSON',
      () => Buffer.concat([header(Command.register, 5), Buffer.from('{oops')]),
    ],
    [
      'a register frame without an identity',
      () => {
        const body = Buffer.from(JSON.stringify({ brand: 'x' }));
        return Buffer.concat([header(Command.register, body.length), body]);
      },
    ],
  ])('closes a connection that sends %s, and only that one', async (_case, bytes) => {
    const healthy = await healthyPhone();
    const bad = await ChannelPhone.connect(server.port, tlsMaterial.cert);
    bad.raw(bytes());
    await bad.whenClosed;
    expect(healthy.phone.closed).toBe(false);
    await stillDelivers(healthy, `after ${_case}`);
    await healthy.phone.close();
  });

  it('closes a connection that never registers', async () => {
    const healthy = await healthyPhone();
    const silent = await ChannelPhone.connect(server.port, tlsMaterial.cert);
    silent.send(Command.heartbeat, String(Date.now()));
    await silent.whenClosed;
    await stillDelivers(healthy, 'after a register timeout');
    await healthy.phone.close();
  });

  it('abandons a TLS handshake that stalls, and one that is not TLS at all', async () => {
    const healthy = await healthyPhone();
    const stalled = net.connect(server.port, '127.0.0.1');
    stalled.on('error', () => {});
    // The first bytes of a ClientHello, then nothing.
    stalled.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]));
    const garbage = net.connect(server.port, '127.0.0.1');
    garbage.on('error', () => {});
    garbage.write('GET / HTTP/1.1\r\n\r\n');
    await Promise.all([
      new Promise((resolve) => stalled.once('close', resolve)),
      new Promise((resolve) => garbage.once('close', resolve)),
    ]);
    await stillDelivers(healthy, 'after a stalled handshake');
    await healthy.phone.close();
  });

  it('keeps a phone that answers heartbeats past the idle limit, and drops one that stays silent', async () => {
    const healthy = await healthyPhone();
    const silent = await ChannelPhone.connect(server.port, tlsMaterial.cert, { answerFrames: false });
    await silent.register(identity());
    await silent.whenClosed;
    // The silent phone was dropped after 2 s without a word; the healthy one has been
    // connected at least as long, answering the heartbeats it got.
    expect(healthy.phone.closed).toBe(false);
    expect(
      healthy.phone.frames.filter((frame) => frame.command === Command.heartbeat).length,
    ).toBeGreaterThan(0);
    await stillDelivers(healthy, 'after the idle limit');
    await healthy.phone.close();
  });

  it('replaces the older connection when the same phone connects again', async () => {
    const me = identity();
    const first = await ChannelPhone.connect(server.port, tlsMaterial.cert);
    const token = await first.register(me);
    const second = await ChannelPhone.connect(server.port, tlsMaterial.cert);
    expect(await second.register(me)).toBe(token);
    await first.whenClosed;
    await second.close();
  });

  it('counts connections, frames and events in /metrics', async () => {
    const healthy = await healthyPhone();
    await stillDelivers(healthy, 'for the metrics');
    const metrics = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/bellhop_channel_connections\{transport="tls"\} [1-9]/);
    expect(metrics).toMatch(/bellhop_channel_frames_sent_total\{command="event"\} [1-9]/);
    expect(metrics).toMatch(/bellhop_channel_events_delivered_total\{channel="message"\} [1-9]/);
    expect(metrics).toMatch(/bellhop_channel_connections_closed_total\{transport="tls",reason="bad_frame"\}/);
    await healthy.phone.close();
  });

  it('speaks the same commands over a WebSocket at /v1/channel', async () => {
    const socket = await t.app.injectWS('/v1/channel');
    const messages: Array<{ cmd: number; payload: unknown }> = [];
    socket.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString()) as { cmd: number; payload: unknown };
      messages.push(message);
      if (message.cmd !== Command.heartbeat) socket.send(JSON.stringify({ cmd: 0, payload: Date.now() }));
    });
    const waitFor = (cmd: number) =>
      eventually(async () => messages.find((message) => message.cmd === cmd), `a WebSocket message ${cmd}`);
    socket.send(JSON.stringify({ cmd: 1, payload: identity() }));
    const { token } = (await waitFor(Command.token)).payload as { token: string };
    expect(token).toMatch(/^bhc1_/);
    const user = await registerUser(t.app);
    await t.app.inject({
      method: 'POST',
      url: '/v1/api/user/token',
      headers: { token: user.token },
      payload: { push_token: token, language: 'en', push_platform: 'android' },
    });
    await pushApi(t.app, key).send({
      channel: 'ring',
      users: [user.id],
      title: 'Doorbell',
      data: { uid: 'U1' },
    });
    expect((await waitFor(Command.event)).payload).toMatchObject({
      channel: 'ring',
      title: 'Doorbell',
      uid: 'U1',
      aps: { name: 'Doorbell' },
    });
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.send('not json');
    await closed;
    const openapi = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      paths: Record<string, unknown>;
    };
    expect(openapi.paths['/v1/channel']).toBeDefined();
    const plain = await t.app.inject({ method: 'GET', url: '/v1/channel' });
    expect(plain.statusCode).toBe(426);
    expect(plain.json()).toEqual(expectedError('UPGRADE_REQUIRED').body);
  });
});

// The test client must not pass for a server that skips TLS.
describe('the push socket', () => {
  it('is TLS', async () => {
    const t = await createTestApp('sqlite');
    const server = await startChannel(t);
    const socket = tls.connect({
      port: server.port,
      host: '127.0.0.1',
      ca: tlsMaterial.cert,
      servername: 'localhost',
    });
    await new Promise((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('error', reject);
    });
    expect(socket.getProtocol()).toMatch(/^TLSv1\.[23]$/);
    socket.destroy();
    await server.close();
    await t.close();
  });
});
