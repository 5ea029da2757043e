import { once } from 'node:events';
import {
  createServer,
  type Http2Server,
  type Http2Session,
  constants as h2,
  type IncomingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import { type AddressInfo, createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../../test/helpers/clock.js';
import { type Http2Outcome, Http2Pool, type Http2PoolOptions } from './http2-pool.js';

type Handler = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, body: string) => void;

/** A cleartext HTTP/2 server that counts its sessions and the streams each has open at once. */
interface TestServer {
  origin: string;
  sessions: Http2Session[];
  /** Per stream, in order of arrival: how many streams its session had open, itself included. */
  openOnArrival: number[];
  /** Most streams open at once on one session. */
  peak: number;
  handler: Handler;
}

/** Answers 200 with what it received: `path bytes`. */
const echo: Handler = (stream, headers, body) => {
  stream.respond({ ':status': 200 });
  stream.end(`${String(headers[':path'])} ${Buffer.byteLength(body)}`);
};

let clock: ManualClock;
let cleanups: Array<() => Promise<void>>;

beforeEach(() => {
  clock = new ManualClock();
  cleanups = [];
});

afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function startServer(maxConcurrentStreams = 100, handler: Handler = echo): Promise<TestServer> {
  const server: Http2Server = createServer({ settings: { maxConcurrentStreams } });
  const state: TestServer = { origin: '', sessions: [], openOnArrival: [], peak: 0, handler };
  const open = new Map<Http2Session, number>();
  server.on('session', (session) => {
    state.sessions.push(session);
    open.set(session, 0);
  });
  server.on('stream', (stream, headers) => {
    const session = stream.session as Http2Session;
    const count = (open.get(session) ?? 0) + 1;
    open.set(session, count);
    state.openOnArrival.push(count);
    state.peak = Math.max(state.peak, count);
    stream.on('close', () => open.set(session, (open.get(session) ?? 1) - 1));
    stream.on('error', () => {
      // A stream the client refused or cancelled; the test reads the client's side.
    });
    stream.setEncoding('utf8');
    let body = '';
    stream.on('data', (chunk: string) => {
      body += chunk;
    });
    stream.on('end', () => state.handler(stream, headers, body));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  state.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const session of state.sessions) session.destroy();
      }),
  );
  return state;
}

function createPool(origin: string, options: Partial<Http2PoolOptions> = {}): Http2Pool {
  const pool = new Http2Pool({
    origin,
    clock,
    tls: {},
    maxConnections: 1,
    maxStreamsPerConnection: 1000,
    requestTimeoutMs: 5_000,
    ...options,
  });
  cleanups.push(() => pool.close());
  return pool;
}

function answered(outcome: Http2Outcome): { status: number; body: string } {
  if (outcome.kind !== 'answer') throw new Error(`no answer: ${outcome.reason}`);
  return { status: outcome.status, body: outcome.body };
}

describe('Http2Pool: reuse and limits', () => {
  it('reuses one connection for sequential requests', async () => {
    const server = await startServer();
    const pool = createPool(server.origin);
    for (let i = 0; i < 5; i += 1) {
      expect(answered(await pool.post(`/n/${i}`, {}, 'abc'))).toEqual({ status: 200, body: `/n/${i} 3` });
    }
    expect(server.sessions).toHaveLength(1);
    expect(pool.connectionCount).toBe(1);
  });

  it('carries a burst on at most maxConnections connections, within the server stream limit', async () => {
    const server = await startServer(10);
    const pool = createPool(server.origin, { maxConnections: 3 });
    const outcomes = await Promise.all(Array.from({ length: 300 }, (_, i) => pool.post(`/b/${i}`, {}, 'x')));
    expect(outcomes.map((outcome) => answered(outcome).body)).toEqual(
      Array.from({ length: 300 }, (_, i) => `/b/${i} 1`),
    );
    expect(server.sessions.length).toBeGreaterThanOrEqual(1);
    expect(server.sessions.length).toBeLessThanOrEqual(3);
    expect(server.peak).toBeLessThanOrEqual(10);
  });

  it('keeps to maxStreamsPerConnection below the server limit', async () => {
    const server = await startServer(100);
    const pool = createPool(server.origin, { maxStreamsPerConnection: 3 });
    const outcomes = await Promise.all(Array.from({ length: 30 }, () => pool.post('/s', {}, '')));
    expect(outcomes.every((outcome) => answered(outcome).status === 200)).toBe(true);
    expect(server.peak).toBeLessThanOrEqual(3);
  });

  it('sends bodies larger than the send window in full', async () => {
    const server = await startServer();
    const pool = createPool(server.origin);
    const body = 'z'.repeat(40_000);
    const outcomes = await Promise.all(Array.from({ length: 40 }, () => pool.post('/w', {}, body)));
    expect(outcomes.map((outcome) => answered(outcome).body)).toEqual(Array(40).fill('/w 40000'));
  });

  it('replaces a connection after maxRequestsPerConnection requests', async () => {
    const server = await startServer();
    const pool = createPool(server.origin, { maxRequestsPerConnection: 2 });
    for (let i = 0; i < 5; i += 1) expect(answered(await pool.post('/r', {}, '')).status).toBe(200);
    expect(server.sessions).toHaveLength(3);
  });
});

describe('Http2Pool: warming a connection', () => {
  it('sends one stream at a time while no answer satisfies warmWhen', async () => {
    const server = await startServer(100, (stream) => {
      stream.respond({ ':status': 403 });
      stream.end('refused');
    });
    const pool = createPool(server.origin, { warmWhen: (answer) => answer.status === 200 });
    const outcomes = await Promise.all(Array.from({ length: 5 }, () => pool.post('/a', {}, '')));
    expect(outcomes.map((outcome) => answered(outcome).status)).toEqual([403, 403, 403, 403, 403]);
    expect(server.openOnArrival).toEqual([1, 1, 1, 1, 1]);
  });

  it('opens up to the stream limit once an answer satisfies warmWhen', async () => {
    const held: ServerHttp2Stream[] = [];
    const server = await startServer(100, (stream, headers, body) => {
      if (server.openOnArrival.length === 1) return echo(stream, headers, body);
      // The other four are answered only once all four are open at once.
      held.push(stream);
      if (held.length < 4) return;
      for (const each of held) echo(each, headers, body);
    });
    const pool = createPool(server.origin, { warmWhen: (answer) => answer.status === 200 });
    const outcomes = await Promise.all(Array.from({ length: 5 }, () => pool.post('/a', {}, '')));
    expect(outcomes.map((outcome) => answered(outcome).status)).toEqual([200, 200, 200, 200, 200]);
    expect(server.openOnArrival[0]).toBe(1);
    expect(server.peak).toBe(4);
  });
});

describe('Http2Pool: faults', () => {
  it('after a GOAWAY answers connection_lost for the refused stream and reconnects', async () => {
    const server = await startServer(100, (stream, headers, body) => {
      if (headers[':path'] !== '/goaway') return echo(stream, headers, body);
      const session = stream.session as Http2Session;
      // Streams above lastStreamId are the client's to fail; this one is left alone.
      session.goaway(h2.NGHTTP2_NO_ERROR, (stream.id ?? 1) - 2);
      session.close();
    });
    const pool = createPool(server.origin);
    expect(answered(await pool.post('/first', {}, '')).status).toBe(200);
    expect(await pool.post('/goaway', {}, '')).toEqual({ kind: 'lost', reason: 'connection_lost' });
    expect(answered(await pool.post('/after', {}, '')).body).toBe('/after 0');
    expect(server.sessions).toHaveLength(2);
  });

  it('replaces a connection the server closes', async () => {
    const server = await startServer(100, (stream, headers, body) => {
      echo(stream, headers, body);
      (stream.session as Http2Session).close();
    });
    const pool = createPool(server.origin);
    for (let i = 0; i < 3; i += 1) expect(answered(await pool.post('/c', {}, '')).status).toBe(200);
    expect(server.sessions).toHaveLength(3);
  });

  it('answers timeout for a request never answered, and keeps the connection', async () => {
    const server = await startServer(100, (stream, headers, body) => {
      if (headers[':path'] !== '/hang') echo(stream, headers, body);
    });
    const pool = createPool(server.origin, { requestTimeoutMs: 300 });
    expect(await pool.post('/hang', {}, '')).toEqual({ kind: 'lost', reason: 'timeout' });
    expect(answered(await pool.post('/next', {}, '')).status).toBe(200);
    expect(server.sessions).toHaveLength(1);
  });

  it('fails fast while backing off after a failed connection, then tries again', async () => {
    let accepted = 0;
    const sockets = new Set<Socket>();
    const refusing: Server = createTcpServer((socket) => {
      accepted += 1;
      sockets.add(socket);
      socket.destroy();
    });
    refusing.listen(0, '127.0.0.1');
    await once(refusing, 'listening');
    cleanups.push(() => new Promise<void>((resolve) => refusing.close(() => resolve())));
    const pool = createPool(`http://127.0.0.1:${(refusing.address() as AddressInfo).port}`);

    const first = await pool.post('/x', {}, '');
    expect(first).toMatchObject({ kind: 'lost', reason: expect.stringMatching(/^connect_failed/) });
    expect(accepted).toBe(1);
    expect(await pool.post('/x', {}, '')).toEqual(first);
    expect(accepted).toBe(1);

    clock.advance(250);
    expect(await pool.post('/x', {}, '')).toMatchObject({ kind: 'lost' });
    expect(accepted).toBe(2);
  });
});

describe('Http2Pool: close', () => {
  it('fails what waits, lets what is in flight finish, and refuses afterwards', async () => {
    const held: ServerHttp2Stream[] = [];
    const server = await startServer(1, (stream) => {
      held.push(stream);
    });
    const pool = createPool(server.origin);
    const inFlight = pool.post('/one', {}, '');
    while (held.length === 0) await new Promise((resolve) => setImmediate(resolve));
    const queued = pool.post('/two', {}, '');
    const closing = pool.close();
    expect(await queued).toEqual({ kind: 'lost', reason: 'adapter_closed' });
    const stream = held[0];
    stream?.respond({ ':status': 200 });
    stream?.end('done');
    expect(answered(await inFlight)).toEqual({ status: 200, body: 'done' });
    await closing;
    expect(await pool.post('/three', {}, '')).toEqual({ kind: 'lost', reason: 'adapter_closed' });
  });
});

/**
 * A server on a thread of its own, so that it answers while this thread is blocked. It says
 * when a request arrived, and answers it `delayMs` later.
 */
async function startThreadServer(delayMs: number): Promise<{ origin: string; worker: Worker }> {
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     const http2 = require('node:http2');
     const server = http2.createServer();
     server.on('stream', (stream) => {
       stream.resume();
       stream.on('end', () => {
         parentPort.postMessage({ arrived: true });
         setTimeout(() => { stream.respond({ ':status': 200 }); stream.end('late'); }, workerData.delayMs);
       });
     });
     server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));`,
    { eval: true, workerData: { delayMs } },
  );
  cleanups.push(async () => {
    await worker.terminate();
  });
  const [ready] = (await once(worker, 'message')) as [{ port: number }];
  return { origin: `http://127.0.0.1:${ready.port}`, worker };
}

describe('Http2Pool: a stalled event loop', () => {
  it('reads an answer that arrived while the loop was blocked past the timeout, instead of timing out', async () => {
    const server = await startThreadServer(50);
    const pool = createPool(server.origin, { requestTimeoutMs: 200 });
    const arrivals: unknown[] = [];
    server.worker.on('message', (message) => arrivals.push(message));
    expect(answered(await pool.post('/warm', {}, ''))).toEqual({ status: 200, body: 'late' });
    const pending = pool.post('/stalled', {}, '');
    while (arrivals.length < 2) await new Promise((resolve) => setImmediate(resolve));
    // This thread is busy (a starved process) well past the timeout; the answer comes meanwhile.
    const busyUntil = performance.now() + 700;
    while (performance.now() < busyUntil) {
      // spin
    }
    expect(answered(await pending)).toEqual({ status: 200, body: 'late' });
  });
});
