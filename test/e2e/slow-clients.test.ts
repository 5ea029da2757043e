import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';

/**
 * Clients that open a connection and never finish their request: they must not hold it (and
 * its file descriptor) for ever. The timeouts are made short here; the bound on each wait only
 * turns a connection that is never closed into a failure.
 */

const boundMs = 8_000;

function open(port: number): Promise<Socket> {
  const socket = connect({ port, host: '127.0.0.1' });
  socket.on('error', () => {});
  return once(socket, 'connect').then(() => socket);
}

/** What the server sent until it closed the connection; fails if it is still open after the bound. */
function untilClosed(socket: Socket): Promise<string> {
  let received = '';
  socket.on('data', (chunk: Buffer) => {
    received += chunk.toString('latin1');
  });
  return new Promise((resolve, reject) => {
    if (socket.destroyed) resolve(received);
    const timer = setTimeout(() => reject(new Error(`still open after ${boundMs} ms`)), boundMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(received);
    });
  });
}

const loginHead = (length: number) =>
  'POST /v1/api/user/login HTTP/1.1\r\nHost: bellhop\r\nContent-Type: application/json\r\n' +
  `Content-Length: ${length}\r\n\r\n`;

describe('slow and idle HTTP clients', () => {
  let t: TestApp;
  let port: number;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    t = await createTestApp('sqlite', {
      HTTP_REQUEST_TIMEOUT_MS: '500',
      HTTP_HEADERS_TIMEOUT_MS: '300',
      HTTP_IDLE_TIMEOUT_MS: '60000',
      HTTP_KEEP_ALIVE_TIMEOUT_MS: '60000',
      HTTP_MAX_CONNECTIONS_PER_IP: '4',
    });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    port = (t.app.server.address() as { port: number }).port;
  });
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.destroy();
  });
  afterAll(async () => {
    await t.close();
  });

  async function client(): Promise<Socket> {
    const socket = await open(port);
    sockets.push(socket);
    return socket;
  }

  it('closes a connection whose body stops arriving, with a 408 REQUEST_TIMEOUT', async () => {
    const socket = await client();
    socket.write(`${loginHead(1000)}{"username":`);
    const answer = await untilClosed(socket);
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(answer).toContain('"code":"REQUEST_TIMEOUT"');
  });

  it('closes a connection whose body trickles in a byte at a time', async () => {
    const socket = await client();
    socket.write(loginHead(1000));
    const trickle = setInterval(() => {
      if (!socket.destroyed) socket.write(' ');
    }, 50);
    try {
      await untilClosed(socket);
    } finally {
      clearInterval(trickle);
    }
  });

  it('closes a connection whose headers never end', async () => {
    const socket = await client();
    socket.write('GET /healthz HTTP/1.1\r\nHost: bellhop\r\n');
    const answer = await untilClosed(socket);
    expect(answer).toContain('"code":"REQUEST_TIMEOUT"');
  });
});

describe('connections per address', () => {
  let t: TestApp;
  let port: number;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    t = await createTestApp('sqlite', { HTTP_MAX_CONNECTIONS_PER_IP: '4' });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    port = (t.app.server.address() as { port: number }).port;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await t.close();
  });

  it('refuses connections over the cap of one address and serves the others', async () => {
    const allowed = await Promise.all([open(port), open(port), open(port), open(port)]);
    sockets.push(...allowed);
    const over = await open(port);
    sockets.push(over);
    expect(await untilClosed(over)).toBe('');
    const [first] = allowed;
    if (first === undefined) throw new Error('no connection');
    let answer = '';
    first.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
    });
    first.write('GET /healthz HTTP/1.1\r\nHost: bellhop\r\n\r\n');
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer: ${answer}`)), boundMs);
      first.on('data', () => {
        if (answer.includes('"status":"ok"')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
  });
});
