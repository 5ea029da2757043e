/**
 * A fake APNs (reference/providers.md §1) for tests and benchmarks: HTTP/2 over TLS on
 * 127.0.0.1, a random port, the test CA's server certificate. It checks what Apple checks
 * (the ES256 provider token, or a client certificate from the test CA; the path, topic, push
 * type, headers and payload size), answers with Apple's statuses and reason bodies, and lets a
 * test script answers per device token or take the whole service down.
 *
 * Like APNs with token auth, a new connection gets one stream (SETTINGS_MAX_CONCURRENT_STREAMS
 * = 1) until a request with a valid provider token was answered; then `maxConcurrentStreams`.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  createSecureServer,
  constants as h2,
  type IncomingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { authenticate, jwtChecker, signingKeys } from './apns-auth.js';
import { apnsFixtures, TEST_APNS_KEY_ID } from './apns-fixtures.js';
import { readRequest, UUID, validate } from './apns-request.js';
import type {
  FakeApns,
  FakeApnsAnswer,
  FakeApnsOptions,
  FakeApnsOutage,
  FakeApnsStats,
  ReceivedApnsRequest,
  SessionState,
} from './apns-types.js';
import { systemClock } from './fake-values.js';

export type {
  FakeApns,
  FakeApnsAnswer,
  FakeApnsKey,
  FakeApnsOptions,
  FakeApnsOutage,
  FakeApnsStats,
  ReceivedApnsRequest,
} from './apns-types.js';

export async function startFakeApns(options: FakeApnsOptions = {}): Promise<FakeApns> {
  const clock = options.clock ?? systemClock;
  const maxStreams = options.maxConcurrentStreams ?? 1000;
  const initialStreams = options.initialMaxConcurrentStreams ?? 1;
  const delay = options.responseDelayMs ?? 0;
  const record = options.record ?? true;
  const keys = signingKeys(options.keys);
  const checkJwt = jwtChecker(keys);

  const events = new EventEmitter();
  const received: ReceivedApnsRequest[] = [];
  const scripts = new Map<string, FakeApnsAnswer[]>();
  const unregistered = new Map<string, number>();
  const jwtsByKey = new Map<string, Set<string>>();
  const lastNewJwtAt = new Map<string, number>();
  /** New JWTs that came too soon after the previous one of their key. */
  const tooManyUpdates = new Set<string>();
  const sessions = new Map<ServerHttp2Session, SessionState>();
  const stats: FakeApnsStats = {
    connections: 0,
    openConnections: 0,
    maxStreamsInFlight: 0,
    streamsBeforeAuth: 0,
    goaways: 0,
  };
  let outage: { mode: FakeApnsOutage; until: number } | undefined;
  let seq = 0;

  const server = createSecureServer({
    key: apnsFixtures.serverKey,
    cert: apnsFixtures.serverCert,
    ca: apnsFixtures.ca,
    requestCert: true,
    rejectUnauthorized: false,
    allowHTTP1: false,
    settings: { maxConcurrentStreams: initialStreams, initialWindowSize: 1 << 20 },
    maxSessionMemory: 64,
  });

  // Every TCP connection, HTTP/2 session or not (a TLS handshake in progress, a session already
  // gone from `sessions`): close() ends them all, else server.close() waits for them.
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  server.on('session', (session) => {
    stats.connections += 1;
    stats.openConnections += 1;
    const state: SessionState = {
      id: stats.connections,
      session,
      peer: undefined,
      authenticated: false,
      inFlight: 0,
      goingAway: false,
    };
    sessions.set(session, state);
    session.on('error', () => {});
    if (options.connectionWindowSize !== undefined) session.setLocalWindowSize(options.connectionWindowSize);
    session.on('close', () => {
      stats.openConnections -= 1;
      sessions.delete(session);
    });
  });
  server.on('sessionError', () => {});
  server.on('tlsClientError', () => {});

  /**
   * GOAWAY: streams up to `lastStreamId` are answered as usual, later ones never are (the client
   * sees them refused). Those must then be left alone: on Node 20, closing a stream above
   * `lastStreamId` after the GOAWAY corrupts the heap (the process aborts).
   */
  function sendGoaway(state: SessionState, lastStreamId: number, reason: string): void {
    if (state.goingAway) return;
    state.goingAway = true;
    stats.goaways += 1;
    const session = state.session;
    if (session.closed || session.destroyed) return;
    session.goaway(h2.NGHTTP2_NO_ERROR, Math.max(0, lastStreamId), Buffer.from(JSON.stringify({ reason })));
    session.close();
    setTimeout(() => {
      if (!session.destroyed) session.destroy();
    }, 1_000).unref();
  }

  function respond(
    stream: ServerHttp2Stream,
    state: SessionState,
    request: ReceivedApnsRequest,
    accepted: boolean,
    status: number,
    reason: string | undefined,
    extraHeaders: Record<string, string> | undefined,
    waitMs: number,
  ): void {
    const apnsIdHeader = request.headers['apns-id'];
    const apnsId = typeof apnsIdHeader === 'string' && UUID.test(apnsIdHeader) ? apnsIdHeader : randomUUID();
    request.answer = { status, reason, apnsId };
    const send = () => {
      if (stream.destroyed || stream.closed) return;
      if (accepted && !state.authenticated) {
        state.authenticated = true;
        // Before the answer on the wire, as APNs lifts the one-stream limit.
        if (!state.session.destroyed && !state.session.closed)
          state.session.settings({ maxConcurrentStreams: maxStreams });
      }
      const headers: Record<string, string | number> = {
        ':status': status,
        'apns-id': apnsId,
        ...extraHeaders,
      };
      if (reason === undefined) {
        stream.respond(headers, { endStream: true });
        return;
      }
      const body: Record<string, unknown> = { reason };
      if (status === 410) body.timestamp = unregistered.get(request.token ?? '') ?? clock.now();
      stream.respond({ ...headers, 'content-type': 'application/json' });
      stream.end(JSON.stringify(body));
    };
    if (waitMs > 0) setTimeout(send, waitMs);
    else send();
  }

  function handle(
    stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    body: string,
    state: SessionState,
  ): void {
    seq += 1;
    const request = readRequest(headers, body, state, seq, clock);
    const { jwt } = request;
    if (jwt !== undefined) {
      const kid = typeof request.jwtHeader?.kid === 'string' ? request.jwtHeader.kid : '';
      let seen = jwtsByKey.get(kid);
      if (seen === undefined) {
        seen = new Set();
        jwtsByKey.set(kid, seen);
      }
      if (!seen.has(jwt)) {
        seen.add(jwt);
        const check = checkJwt(jwt);
        if (check.ok && options.tokenUpdateMinIntervalMs !== undefined) {
          const previous = lastNewJwtAt.get(kid);
          lastNewJwtAt.set(kid, request.timestamp);
          if (previous !== undefined && request.timestamp - previous < options.tokenUpdateMinIntervalMs) {
            tooManyUpdates.add(jwt);
          }
        }
      }
    }
    if (record) received.push(request);
    if (events.listenerCount('request') > 0) events.emit('request', request);

    if (outage !== undefined && clock.now() >= outage.until) outage = undefined;
    if (outage?.mode === 'goaway') {
      sendGoaway(state, (stream.id ?? 1) - 2, 'Shutdown');
      return;
    }
    if (outage?.mode === 'unavailable') {
      respond(stream, state, request, false, 503, 'ServiceUnavailable', undefined, delay);
      return;
    }

    const auth: [number, string] | undefined =
      jwt !== undefined && tooManyUpdates.has(jwt)
        ? [429, 'TooManyProviderTokenUpdates']
        : authenticate(request, state.peer?.authorized === true, checkJwt, clock);
    const accepted = auth === undefined;
    const queue = request.token === undefined ? undefined : scripts.get(request.token);
    const scripted = queue?.shift();
    if (queue !== undefined && queue.length === 0 && request.token !== undefined)
      scripts.delete(request.token);
    if (scripted !== undefined) {
      if ('action' in scripted) {
        if (scripted.action === 'goaway') {
          sendGoaway(state, (stream.id ?? 1) - 2, scripted.reason ?? 'Shutdown');
        } else if (scripted.action === 'reset') {
          stream.close(h2.NGHTTP2_INTERNAL_ERROR);
        }
        // 'hang': nothing, ever.
        return;
      }
      const reason =
        scripted.status >= 200 && scripted.status < 300 ? undefined : (scripted.reason ?? undefined);
      respond(
        stream,
        state,
        request,
        accepted,
        scripted.status,
        reason,
        scripted.headers,
        scripted.delayMs ?? delay,
      );
      return;
    }
    if (auth !== undefined) {
      respond(stream, state, request, false, auth[0], auth[1], undefined, delay);
      return;
    }
    if (request.token !== undefined && unregistered.has(request.token)) {
      respond(stream, state, request, true, 410, 'Unregistered', undefined, delay);
      return;
    }
    const problem = validate(request);
    if (problem !== undefined)
      respond(stream, state, request, true, problem[0], problem[1], undefined, delay);
    else respond(stream, state, request, true, 200, undefined, undefined, delay);
  }

  server.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    const state = sessions.get(stream.session as ServerHttp2Session);
    // After a GOAWAY: left alone (see sendGoaway).
    if (state === undefined || state.goingAway) return;
    state.inFlight += 1;
    if (state.inFlight > stats.maxStreamsInFlight) stats.maxStreamsInFlight = state.inFlight;
    if (!state.authenticated && state.inFlight > initialStreams) stats.streamsBeforeAuth += 1;
    stream.on('close', () => {
      state.inFlight -= 1;
    });
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      if (state.goingAway) return;
      handle(
        stream,
        headers,
        chunks.length === 1 ? String(chunks[0]) : Buffer.concat(chunks).toString('utf8'),
        state,
      );
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `https://127.0.0.1:${port}`,
    port,
    ca: apnsFixtures.ca,
    received,
    stats,
    jwtsByKey,
    script(token, answers) {
      const queue = scripts.get(token) ?? [];
      queue.push(...answers);
      scripts.set(token, queue);
    },
    unregister(token) {
      unregistered.set(token, clock.now());
    },
    setOutage(mode, durationMs) {
      outage =
        mode === undefined
          ? undefined
          : { mode, until: clock.now() + (durationMs ?? Number.POSITIVE_INFINITY) };
    },
    distinctJwts(keyId = TEST_APNS_KEY_ID) {
      return jwtsByKey.get(keyId)?.size ?? 0;
    },
    goawayAll(reason = 'Shutdown') {
      for (const state of sessions.values()) sendGoaway(state, 2 ** 31 - 1, reason);
    },
    on(event, listener) {
      events.on(event, listener);
    },
    off(event, listener) {
      events.off(event, listener);
    },
    reset() {
      received.length = 0;
      scripts.clear();
      unregistered.clear();
      jwtsByKey.clear();
      lastNewJwtAt.clear();
      tooManyUpdates.clear();
      outage = undefined;
      seq = 0;
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const session of sessions.keys()) session.destroy();
        for (const socket of sockets) socket.destroy();
      });
    },
  };
}
