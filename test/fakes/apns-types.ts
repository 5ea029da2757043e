/** What tests configure, script and read of the fake APNs. */
import type { KeyObject } from 'node:crypto';
import type { IncomingHttpHeaders, ServerHttp2Session } from 'node:http2';

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

export interface SessionState {
  id: number;
  session: ServerHttp2Session;
  /** The client certificate: undefined = not looked at yet, null = none. */
  peer: { subject: Record<string, unknown>; authorized: boolean } | null | undefined;
  authenticated: boolean;
  inFlight: number;
  goingAway: boolean;
}

export type TokenCheck =
  | { ok: true; kid: string; iat: number }
  | { ok: false; reason: 'InvalidProviderToken' | 'MissingProviderToken' };
