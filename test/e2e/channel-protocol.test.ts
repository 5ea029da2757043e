import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Command } from '../../src/channel/frames.js';
import type { ChannelServer } from '../../src/channel/server.js';
import { createTestApp, registerUser, type TestApp } from '../helpers/app.js';
import { ChannelPhone } from '../helpers/channel-client.js';
import { identity, startChannel, tlsMaterial } from '../helpers/channel-testbed.js';
import { expectedError } from '../helpers/error-contract.js';
import { pushApi } from '../helpers/push.js';
import { eventually } from '../helpers/wait.js';

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
