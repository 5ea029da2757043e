import { once } from 'node:events';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSelfSignedCertificate } from '../../src/channel/certificate.js';
import { Command, encodeFrame } from '../../src/channel/frames.js';
import { type ChannelServer, startChannelServer } from '../../src/channel/server.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { ChannelPhone } from '../helpers/channel-client.js';

/**
 * The push socket bounds what one client can cost: connections per address, and frames
 * trickled a few bytes per TLS record. The bound on each wait only turns a connection that is
 * never closed into a failure.
 */
const tlsMaterial = createSelfSignedCertificate('localhost');
const boundMs = 8_000;

function untilClosed(socket: tls.TLSSocket): Promise<{ secured: boolean }> {
  let secured = false;
  socket.on('secureConnect', () => {
    secured = true;
  });
  return new Promise((resolve, reject) => {
    if (socket.destroyed) resolve({ secured });
    const timer = setTimeout(() => reject(new Error(`still open after ${boundMs} ms`)), boundMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve({ secured });
    });
  });
}

describe('push socket limits', () => {
  let t: TestApp;
  let server: ChannelServer;
  const sockets: tls.TLSSocket[] = [];

  beforeAll(async () => {
    t = await createTestApp('sqlite');
    server = await startChannelServer(t.services.channel, {
      port: 0,
      host: '127.0.0.1',
      tls: tlsMaterial,
      handshakeTimeoutMs: 10_000,
      maxConnectionsPerAddress: 3,
      maxReadsPerFrame: 16,
    });
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await server.close();
    await t.close();
  });

  function connect(): tls.TLSSocket {
    const socket = tls.connect({
      port: server.port,
      host: '127.0.0.1',
      ca: tlsMaterial.cert,
      servername: 'localhost',
    });
    socket.on('error', () => {});
    sockets.push(socket);
    return socket;
  }

  it('closes a connection whose register frame trickles in one byte per record', async () => {
    const socket = connect();
    await once(socket, 'secureConnect');
    const frame = encodeFrame(
      Command.register,
      JSON.stringify({ imei: '861234567890123', imsi: '460001', bundle_id: 'com.example.trickle' }),
    );
    const closed = untilClosed(socket);
    for (let i = 0; i < frame.length && !socket.destroyed; i += 1) {
      // One write per TLS record: each waits until the last has left.
      await new Promise<void>((resolve) => socket.write(frame.subarray(i, i + 1), () => resolve()));
    }
    await closed;
    expect(socket.destroyed).toBe(true);
  });

  it('refuses connections over the cap of one address and serves the others', async () => {
    const allowed = [connect(), connect(), connect()];
    await Promise.all(allowed.map((socket) => once(socket, 'secureConnect')));
    const over = await untilClosed(connect());
    expect(over.secured).toBe(false);
    for (const socket of allowed) socket.destroy();
    // Closed connections no longer count: a phone registers.
    await Promise.all(allowed.map((socket) => once(socket, 'close')));
    const phone = await ChannelPhone.connect(server.port, tlsMaterial.cert);
    await phone.register({ imei: '869999999999999', imsi: '460009', bundle_id: 'com.example.cap' });
    await phone.close();
  });
});
