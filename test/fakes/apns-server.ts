import { createPublicKey, type KeyObject, randomUUID, verify } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  createSecureServer,
  constants as h2,
  type IncomingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { TLSSocket } from 'node:tls';
import { apnsFixtures, TEST_APNS_KEY_ID, TEST_APNS_TEAM_ID } from './apns-fixtures.js';

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

export interface FakeApnsKey {
  teamId: string;
  keyId: string;
  /** PEM (SPKI, or the private .p8) or a key object. */
  publicKey: string | KeyObject;
}

export interface FakeApnsOptions {
  /** Signing keys APNs knows. Default: the fixture key (TEST_APNS_TEAM_ID / TEST_APNS_KEY_ID). */
  keys?: FakeApnsKey[];
  /** Unix ms, for token age (`iat` older than 1 h → 403 ExpiredProviderToken), outage periods
   *  and timestamps. Default: the system clock. */
  clock?: { now(): number };
  /** Streams per connection once a provider token (or client certificate) was accepted. Default 1000. */
  maxConcurrentStreams?: number;
  /** Streams per connection before that. Default 1, as APNs. */
  initialMaxConcurrentStreams?: number;
  /** The connection flow-control window the fake grants a client. Default: HTTP/2's 65,535. */
  connectionWindowSize?: number;
  /** Every answer waits this long (wall clock). Default 0. */
  responseDelayMs?: number;
  /** Keep every request in `received`. Default true; a long benchmark may turn it off. */
  record?: boolean;
  /** When set: a key presenting a new JWT sooner than this after its previous new one gets
   *  429 TooManyProviderTokenUpdates (APNs's 20-minute rule; by the fake's clock). */
  tokenUpdateMinIntervalMs?: number;
}

/** One scripted answer for a device token, consumed in order; then the token is answered normally. */
export type FakeApnsAnswer =
  | { status: number; reason?: string; headers?: Record<string, string>; delayMs?: number }
  /** GOAWAY (reason `Shutdown`) on the connection: this request and later ones on it go unanswered. */
  | { action: 'goaway'; reason?: string }
  /** No answer at all (for client timeouts). */
  | { action: 'hang' }
  /** RST_STREAM INTERNAL_ERROR instead of an answer. */
  | { action: 'reset' };

export interface ReceivedApnsRequest {
  /** 1, 2, …: the order of arrival. */
  seq: number;
  /** Which connection (1, 2, … in order of opening). */
  connection: number;
  /** The client's port of that connection (which process sent it). */
  remotePort: number | undefined;
  method: string;
  path: string;
  /** The device token from the path (undefined when the path is not /3/device/<token>). */
  token: string | undefined;
  authority: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The parsed JSON body, or undefined. */
  payload: unknown;
  /** The bearer token, when one was sent. */
  jwt: string | undefined;
  /** Its decoded header and claims, when it decodes. */
  jwtHeader: { alg?: unknown; kid?: unknown } | undefined;
  jwtClaims: { iss?: unknown; iat?: unknown } | undefined;
  /** The client certificate's subject, when one was presented. */
  clientCertificate: Record<string, unknown> | undefined;
  /** The fake's clock (Unix ms) at arrival. */
  timestamp: number;
  /** performance.now() at arrival, for latency measurements. */
  at: number;
  /** What the fake answered (`status` 0: no answer — GOAWAY, hang or reset). */
  answer: { status: number; reason: string | undefined; apnsId: string | undefined };
}

export type FakeApnsOutage = 'unavailable' | 'goaway';

export interface FakeApnsStats {
  /** Connections ever opened. */
  connections: number;
  /** Connections open now. */
  openConnections: number;
  /** The most streams ever in flight at once on one connection. */
  maxStreamsInFlight: number;
  /** Streams that arrived on a connection beyond the one allowed before its first accepted token. */
  streamsBeforeAuth: number;
  /** GOAWAY frames sent. */
  goaways: number;
}

export interface FakeApns {
  /** `https://127.0.0.1:<port>`. */
  url: string;
  port: number;
  /** PEM of the CA that signed the fake's certificate: give it as the credentials' `ca`. */
  ca: string;
  received: ReceivedApnsRequest[];
  stats: FakeApnsStats;
  /** Answers for the next requests to `token`, in order; appended to any still pending. */
  script(token: string, answers: FakeApnsAnswer[]): void;
  /** From now on every request for `token` gets 410 Unregistered (with `timestamp`). */
  unregister(token: string): void;
  /** Every request gets 503 ServiceUnavailable, or a GOAWAY, for `durationMs` by the fake's
   *  clock (default: until `setOutage(undefined)`). */
  setOutage(mode: FakeApnsOutage | undefined, durationMs?: number): void;
  /** Distinct bearer tokens seen for a key id (default: the fixture key). */
  distinctJwts(keyId?: string): number;
  /** Bearer tokens seen, by the `kid` they claim. */
  jwtsByKey: Map<string, Set<string>>;
  /** A GOAWAY now on every open connection. */
  goawayAll(reason?: string): void;
  on(event: 'request', listener: (request: ReceivedApnsRequest) => void): void;
  off(event: 'request', listener: (request: ReceivedApnsRequest) => void): void;
  /** Forget received requests, scripts, tokens seen and outages. */
  reset(): void;
  close(): Promise<void>;
}

interface SessionState {
  id: number;
  session: ServerHttp2Session;
  /** The client certificate: undefined = not looked at yet, null = none. */
  peer: { subject: Record<string, unknown>; authorized: boolean } | null | undefined;
  authenticated: boolean;
  inFlight: number;
  goingAway: boolean;
}

type TokenCheck =
  | { ok: true; kid: string; iat: number }
  | { ok: false; reason: 'InvalidProviderToken' | 'MissingProviderToken' };

const PUSH_TYPES = new Set([
  'alert',
  'background',
  'voip',
  'complication',
  'fileprovider',
  'mdm',
  'liveactivity',
  'location',
  'pushtotalk',
]);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const DEVICE_PATH = /^\/3\/device\/([^/?#]*)$/;
const HOUR = 3_600_000;

function decodeSegment(segment: string | undefined): Record<string, unknown> | undefined {
  if (segment === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export async function startFakeApns(options: FakeApnsOptions = {}): Promise<FakeApns> {
  const clock = options.clock ?? { now: () => Date.now() };
  const maxStreams = options.maxConcurrentStreams ?? 1000;
  const initialStreams = options.initialMaxConcurrentStreams ?? 1;
  const delay = options.responseDelayMs ?? 0;
  const record = options.record ?? true;
  const keys = new Map<string, { teamId: string; key: KeyObject }>();
  for (const key of options.keys ?? [
    { teamId: TEST_APNS_TEAM_ID, keyId: TEST_APNS_KEY_ID, publicKey: apnsFixtures.signingPublicKey },
  ]) {
    keys.set(key.keyId, {
      teamId: key.teamId,
      key:
        typeof key.publicKey === 'string' ? createPublicKey(key.publicKey) : createPublicKey(key.publicKey),
    });
  }

  const events = new EventEmitter();
  const received: ReceivedApnsRequest[] = [];
  const scripts = new Map<string, FakeApnsAnswer[]>();
  const unregistered = new Map<string, number>();
  const jwtsByKey = new Map<string, Set<string>>();
  const lastNewJwtAt = new Map<string, number>();
  /** New JWTs that came too soon after the previous one of their key. */
  const tooManyUpdates = new Set<string>();
  /** Signature checks, once per distinct JWT. */
  const verified = new Map<string, TokenCheck>();
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

  function checkJwt(jwt: string): TokenCheck {
    const cached = verified.get(jwt);
    if (cached !== undefined) return cached;
    const parts = jwt.split('.');
    const header = decodeSegment(parts[0]);
    const claims = decodeSegment(parts[1]);
    let result: TokenCheck = { ok: false, reason: 'InvalidProviderToken' };
    if (parts.length === 3 && header !== undefined && claims !== undefined && header.alg === 'ES256') {
      const kid = typeof header.kid === 'string' ? header.kid : '';
      const known = keys.get(kid);
      const iat = claims.iat;
      if (
        known !== undefined &&
        claims.iss === known.teamId &&
        typeof iat === 'number' &&
        Number.isInteger(iat)
      ) {
        const good = verify(
          'sha256',
          Buffer.from(`${parts[0]}.${parts[1]}`),
          { key: known.key, dsaEncoding: 'ieee-p1363' },
          Buffer.from(parts[2] ?? '', 'base64url'),
        );
        if (good) result = { ok: true, kid, iat };
      }
    }
    verified.set(jwt, result);
    return result;
  }

  /** The auth verdict: undefined = accepted, else [status, reason]. */
  function authenticate(
    request: ReceivedApnsRequest,
    certificateTrusted: boolean,
  ): [number, string] | undefined {
    const jwt = request.jwt;
    if (jwt === undefined) {
      if (request.clientCertificate === undefined) return [403, 'MissingProviderToken'];
      return certificateTrusted ? undefined : [403, 'BadCertificate'];
    }
    const check = checkJwt(jwt);
    if (!check.ok) return [403, check.reason];
    if (clock.now() - check.iat * 1000 > HOUR) return [403, 'ExpiredProviderToken'];
    return undefined;
  }

  /** What a valid-looking request for an acceptable token would get: undefined = 200. */
  function validate(request: ReceivedApnsRequest): [number, string] | undefined {
    if (request.method !== 'POST') return [405, 'MethodNotAllowed'];
    if (request.token === undefined) return [404, 'BadPath'];
    if (request.token === '') return [400, 'MissingDeviceToken'];
    if (request.token.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(request.token))
      return [400, 'BadDeviceToken'];
    const headers = request.headers;
    const topic = typeof headers['apns-topic'] === 'string' ? headers['apns-topic'] : undefined;
    const certTopic =
      typeof request.clientCertificate?.UID === 'string' ? request.clientCertificate.UID : undefined;
    if (topic === undefined && (request.jwt !== undefined || certTopic === undefined))
      return [400, 'MissingTopic'];
    const effectiveTopic = topic ?? certTopic ?? '';
    if (request.jwt === undefined && certTopic !== undefined) {
      if (effectiveTopic !== certTopic && effectiveTopic !== `${certTopic}.voip`)
        return [400, 'TopicDisallowed'];
    }
    const pushType = headers['apns-push-type'];
    if (pushType !== undefined) {
      if (typeof pushType !== 'string' || !PUSH_TYPES.has(pushType)) return [400, 'InvalidPushType'];
      if (pushType === 'voip' && !effectiveTopic.endsWith('.voip')) return [400, 'DeviceTokenNotForTopic'];
      if (pushType !== 'voip' && effectiveTopic.endsWith('.voip')) return [400, 'InvalidPushType'];
    }
    const priority = headers['apns-priority'];
    if (priority !== undefined && priority !== '10' && priority !== '5' && priority !== '1') {
      return [400, 'BadPriority'];
    }
    const expiration = headers['apns-expiration'];
    if (expiration !== undefined && (typeof expiration !== 'string' || !/^\d{1,12}$/.test(expiration))) {
      return [400, 'BadExpirationDate'];
    }
    const apnsId = headers['apns-id'];
    if (apnsId !== undefined && (typeof apnsId !== 'string' || !UUID.test(apnsId)))
      return [400, 'BadMessageId'];
    const collapseId = headers['apns-collapse-id'];
    if (collapseId !== undefined && Buffer.byteLength(String(collapseId)) > 64) return [400, 'BadCollapseId'];
    const bytes = Buffer.byteLength(request.body);
    if (bytes === 0) return [400, 'PayloadEmpty'];
    if (bytes > (pushType === 'voip' ? 5120 : 4096)) return [413, 'PayloadTooLarge'];
    if (typeof request.payload !== 'object' || request.payload === null || Array.isArray(request.payload)) {
      // APNs documents no reason for malformed JSON; the fake names it.
      return [400, 'BadPayload'];
    }
    return undefined;
  }

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
    const path = String(headers[':path'] ?? '');
    const match = DEVICE_PATH.exec(path);
    const authorization = typeof headers.authorization === 'string' ? headers.authorization : undefined;
    const jwt = authorization?.toLowerCase().startsWith('bearer ')
      ? authorization.slice(7).trim()
      : undefined;
    if (state.peer === undefined) {
      const socket = state.session.socket as TLSSocket;
      const certificate = socket.getPeerCertificate();
      state.peer =
        certificate !== undefined && Object.keys(certificate).length > 0
          ? { subject: { ...certificate.subject }, authorized: socket.authorized }
          : null;
    }
    let payload: unknown;
    try {
      payload = JSON.parse(body);
    } catch {
      payload = undefined;
    }
    const parts = jwt?.split('.');
    seq += 1;
    const request: ReceivedApnsRequest = {
      seq,
      connection: state.id,
      remotePort: state.session.socket?.remotePort,
      method: String(headers[':method'] ?? ''),
      path,
      token: match === null ? undefined : decodeURIComponent(match[1] ?? ''),
      authority: String(headers[':authority'] ?? ''),
      headers,
      body,
      payload,
      jwt,
      jwtHeader: decodeSegment(parts?.[0]),
      jwtClaims: decodeSegment(parts?.[1]),
      clientCertificate: state.peer === null ? undefined : state.peer.subject,
      timestamp: clock.now(),
      at: performance.now(),
      answer: { status: 0, reason: undefined, apnsId: undefined },
    };
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
        : authenticate(request, state.peer?.authorized === true);
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
