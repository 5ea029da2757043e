import { createHash, createPublicKey, type KeyObject, sign } from 'node:crypto';
import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  connect,
  constants as h2,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type SecureClientSessionOptions,
} from 'node:http2';
import type { Clock } from '../../../clock.js';
import type { PushAdapter, PushMessage, PushResult } from '../adapter.js';
import {
  createMemoryProviderTokenStore,
  type ProviderToken,
  type ProviderTokenStore,
} from '../shared/provider-tokens.js';
import {
  type ApnsCredentials,
  type ApnsTokenCredentials,
  apnsEndpoints,
  isTokenCredentials,
  parseApnsSigningKey,
  validateApnsCredentials,
} from './apns.config.js';
import { apnsErrorReason, classifyApnsError } from './apns.errors.js';
import {
  APNS_MAX_COLLAPSE_ID_BYTES,
  apnsPayloadLimit,
  buildApnsRequest,
  isApnsDeviceToken,
} from './apns.request.js';

// ---------------------------------------------------------------------------------------------
// Provider tokens (the JWT of token auth)

export {
  createMemoryProviderTokenStore,
  type ProviderToken,
  type ProviderTokenStore,
} from '../shared/provider-tokens.js';

/** The default store: one per process, shared by every adapter of this module. */
const processProviderTokens = createMemoryProviderTokenStore();

const MINUTE = 60_000;
/** Apple: regenerate no more often than every 20 minutes, no less often than every 60. */
export const APNS_TOKEN_MIN_AGE_MS = 20 * MINUTE;
export const APNS_TOKEN_MAX_REFRESH_AGE_MS = 55 * MINUTE;
export const APNS_TOKEN_DEFAULT_REFRESH_AGE_MS = 50 * MINUTE;

/** Token generations in progress, per store and storage key: concurrent sends sign once. */
const issuing = new WeakMap<ProviderTokenStore, Map<string, Promise<ProviderToken>>>();

function base64url(text: string): string {
  return Buffer.from(text).toString('base64url');
}

class ProviderTokens {
  readonly storageKey: string;
  private readonly key: KeyObject;
  private readonly jwtHeader: string;

  constructor(
    private readonly credentials: ApnsTokenCredentials,
    private readonly store: ProviderTokenStore,
    private readonly clock: Clock,
    private readonly refreshAgeMs: number,
  ) {
    this.key = parseApnsSigningKey(credentials.key);
    const publicKey = createPublicKey(this.key).export({ type: 'spki', format: 'der' });
    const fingerprint = createHash('sha256').update(publicKey).digest('hex').slice(0, 16);
    this.storageKey = `${credentials.team_id}/${credentials.key_id}/${fingerprint}`;
    this.jwtHeader = base64url(JSON.stringify({ alg: 'ES256', kid: credentials.key_id }));
  }

  /** The shared JWT, signed anew once it is `refreshAgeMs` old. */
  async current(): Promise<ProviderToken> {
    const stored = await this.store.get(this.storageKey);
    if (this.reusable(stored, undefined)) return stored;
    return this.issue(undefined);
  }

  private reusable(
    stored: ProviderToken | undefined,
    replacing: string | undefined,
  ): stored is ProviderToken {
    return (
      stored !== undefined &&
      stored.jwt !== replacing &&
      this.clock.now() - stored.issuedAt < this.refreshAgeMs
    );
  }

  /**
   * After `403 ExpiredProviderToken` for `failed`: the JWT to retry with, or undefined when
   * retrying is pointless. Another sender may already have replaced it (then that one);
   * otherwise a new one is signed, but only if `failed` is at least 20 minutes old, so that
   * tokens change at most once per 20 minutes whatever APNs says (a clock far off Apple's
   * would otherwise churn them into 429 TooManyProviderTokenUpdates).
   */
  async renewAfterExpired(failed: ProviderToken): Promise<ProviderToken | undefined> {
    const stored = await this.store.get(this.storageKey);
    if (stored !== undefined && stored.jwt !== failed.jwt) {
      return this.reusable(stored, undefined) ? stored : this.issue(undefined);
    }
    if (this.clock.now() - failed.issuedAt < APNS_TOKEN_MIN_AGE_MS) return undefined;
    return this.issue(failed.jwt);
  }

  /**
   * Signs a new token, unless the store already holds a usable one that is not `replacing`,
   * and puts it in the store by compare-and-set: when several processes sign at once, one
   * token wins and all of them use it (the others' are never sent).
   */
  private issue(replacing: string | undefined): Promise<ProviderToken> {
    let inProgress = issuing.get(this.store);
    if (inProgress === undefined) {
      inProgress = new Map();
      issuing.set(this.store, inProgress);
    }
    const running = inProgress.get(this.storageKey);
    if (running !== undefined) return running;
    const table = inProgress;
    const mint = async () => {
      const stored = await this.store.get(this.storageKey);
      if (this.reusable(stored, replacing)) return stored;
      const iat = Math.floor(this.clock.now() / 1000);
      const signingInput = `${this.jwtHeader}.${base64url(JSON.stringify({ iss: this.credentials.team_id, iat }))}`;
      const signature = sign('sha256', Buffer.from(signingInput), {
        key: this.key,
        dsaEncoding: 'ieee-p1363',
      });
      const token: ProviderToken = {
        jwt: `${signingInput}.${signature.toString('base64url')}`,
        issuedAt: iat * 1000,
      };
      return this.store.replace(this.storageKey, stored, token);
    };
    const signing = mint().finally(() => table.delete(this.storageKey));
    table.set(this.storageKey, signing);
    return signing;
  }
}

// ---------------------------------------------------------------------------------------------
// Connections

/** What came back for one request on the wire. */
type Outcome =
  | {
      kind: 'answer';
      status: number;
      apnsId: string | undefined;
      retryAfter: string | undefined;
      body: string;
    }
  | { kind: 'lost'; reason: string };

interface Job {
  path: string;
  headers: OutgoingHttpHeaders;
  body: string;
  bodyBytes: number;
  /** Dispatched, and Node has not yet reported the body sent. */
  unsent: boolean;
  resolve: (outcome: Outcome) => void;
  settled: boolean;
  slot: Slot | undefined;
  stream: ClientHttp2Stream | undefined;
  timer: NodeJS.Timeout | undefined;
}

interface Slot {
  session: ClientHttp2Session;
  connected: boolean;
  settingsReceived: boolean;
  everReady: boolean;
  /** Token auth: one stream at a time until a request was accepted on this connection. */
  warm: boolean;
  /** No new streams; closes once drained. */
  retired: boolean;
  /** Closed by us (adapter closed, or the connection used up): not a failure of APNs. */
  closedByUs: boolean;
  /** Answers received on this connection. */
  answers: number;
  remoteMaxStreams: number;
  inFlight: Set<Job>;
  requests: number;
  pinging: boolean;
  /** Body bytes handed to Node and not yet sent: they will take that much of the send window. */
  unsentBytes: number;
  /** During one pump: what the send window still takes (undefined: not read yet). */
  windowBudget: number | undefined;
  connectTimer: NodeJS.Timeout | undefined;
  closed: Promise<void>;
}

/** Well below the 2^30 client stream ids of a connection: then a fresh connection. */
const MAX_REQUESTS_PER_CONNECTION = 1_000_000_000;
const MAX_CONNECT_BACKOFF_MS = 30_000;

interface PoolOptions {
  origin: string;
  clock: Clock;
  tls: SecureClientSessionOptions;
  tokenAuth: boolean;
  maxConnections: number;
  maxStreamsPerConnection: number;
  requestTimeoutMs: number;
}

/** A FIFO with O(1) take, for bursts of tens of thousands of requests. */
class Queue<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  peek(): T | undefined {
    return this.items[this.head];
  }

  take(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head += 1;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}

/**
 * The connections to one APNs host: at most `maxConnections` long-lived HTTP/2 sessions,
 * opened on demand and reused, each carrying as many concurrent streams as the server allows
 * (SETTINGS_MAX_CONCURRENT_STREAMS, capped); requests beyond that wait in a queue.
 */
class ConnectionPool {
  private readonly slots: Slot[] = [];
  private readonly queue = new Queue<Job>();
  private pumping = false;
  private closed = false;
  /** Connections in a row that failed (or were closed by APNs before any answer). */
  private connectFailures = 0;
  /** No new connection before this (clock ms): requests fail fast meanwhile. */
  private reconnectAt = 0;
  private lastConnectError = 'connect_failed';

  constructor(private readonly options: PoolOptions) {}

  execute(path: string, headers: OutgoingHttpHeaders, body: string): Promise<Outcome> {
    if (this.closed) return Promise.resolve({ kind: 'lost', reason: 'adapter_closed' });
    if (!this.hasLiveSlot() && this.backingOff()) {
      return Promise.resolve({ kind: 'lost', reason: this.lastConnectError });
    }
    return new Promise<Outcome>((resolve) => {
      this.queue.push({
        path,
        headers,
        body,
        bodyBytes: Buffer.byteLength(body),
        unsent: false,
        resolve,
        settled: false,
        slot: undefined,
        stream: undefined,
        timer: undefined,
      });
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.failQueued('adapter_closed');
    const closing = this.slots.map((slot) => {
      this.retire(slot, true);
      return slot.closed;
    });
    await Promise.all(closing);
  }

  /** Within the back-off after failed connections (a clock set back ends it). */
  private backingOff(): boolean {
    const now = this.options.clock.now();
    return now < this.reconnectAt && this.reconnectAt - now <= MAX_CONNECT_BACKOFF_MS;
  }

  private hasLiveSlot(): boolean {
    return this.slots.some((slot) => !slot.retired);
  }

  private capacity(slot: Slot): number {
    if (slot.retired || !slot.connected || !slot.settingsReceived) return 0;
    if (slot.session.closed || slot.session.destroyed) return 0;
    const limit = slot.warm ? Math.min(slot.remoteMaxStreams, this.options.maxStreamsPerConnection) : 1;
    return limit - slot.inFlight.size;
  }

  /**
   * Whether `slot` can take `job` as far as HTTP/2 flow control goes: its body must fit in the
   * connection's send window, less the bodies already handed to Node and not yet sent. A body
   * that straddles the end of the window is sent in part, and Node can leave the rest of it
   * stalled for good while newer streams go (seen in bursts: a stream that never completes
   * until it times out). Waiting here instead, in order, costs nothing: the window reopens as
   * APNs reads, and answers (each one a new pump) keep coming. With nothing in flight it goes
   * regardless, so that a small window never blocks the queue.
   */
  private fitsWindow(slot: Slot, job: Job): boolean {
    if (slot.inFlight.size === 0) return true;
    if (slot.windowBudget === undefined) {
      const window = slot.session.state.remoteWindowSize ?? Number.POSITIVE_INFINITY;
      slot.windowBudget = window - slot.unsentBytes;
    }
    return job.bodyBytes <= slot.windowBudget;
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    for (const slot of this.slots) slot.windowBudget = undefined;
    try {
      for (let job = this.queue.peek(); job !== undefined; job = this.queue.peek()) {
        let best: Slot | undefined;
        let bestSpare = 0;
        for (const slot of this.slots) {
          const spare = this.capacity(slot);
          if (spare > bestSpare && this.fitsWindow(slot, job)) {
            best = slot;
            bestSpare = spare;
          }
        }
        if (best === undefined) {
          this.maybeConnect();
          break;
        }
        this.queue.take();
        if (best.windowBudget !== undefined) best.windowBudget -= job.bodyBytes;
        this.dispatch(best, job);
      }
    } finally {
      this.pumping = false;
    }
  }

  /** A new connection when the queue outgrows what connections being opened will take. */
  private maybeConnect(): void {
    if (this.closed) return;
    const live = this.slots.filter((slot) => !slot.retired);
    const opening = live.filter((slot) => !slot.everReady).length;
    if (live.length >= this.options.maxConnections || this.queue.length <= opening) return;
    if (this.backingOff()) {
      if (live.length === 0) this.failQueued(this.lastConnectError);
      return;
    }
    this.open();
  }

  private open(): void {
    let session: ClientHttp2Session;
    try {
      session = connect(this.options.origin, this.options.tls);
    } catch (error) {
      this.connectFailed(error, undefined);
      this.failQueued(this.lastConnectError);
      return;
    }
    let markClosed: () => void = () => {};
    const slot: Slot = {
      session,
      connected: false,
      settingsReceived: false,
      everReady: false,
      warm: !this.options.tokenAuth,
      retired: false,
      closedByUs: false,
      answers: 0,
      remoteMaxStreams: 1,
      inFlight: new Set(),
      requests: 0,
      pinging: false,
      unsentBytes: 0,
      windowBudget: undefined,
      connectTimer: undefined,
      closed: new Promise<void>((resolve) => {
        markClosed = resolve;
      }),
    };
    this.slots.push(slot);
    let failure: unknown;
    slot.connectTimer = setTimeout(() => {
      failure = new Error('connect timeout');
      (failure as NodeJS.ErrnoException).code = 'ETIMEDOUT';
      session.destroy();
    }, this.options.requestTimeoutMs);
    const becameReady = () => {
      if (slot.everReady || !slot.connected || !slot.settingsReceived) return;
      slot.everReady = true;
      clearTimeout(slot.connectTimer);
      if (slot.inFlight.size === 0) session.unref();
    };
    session.once('connect', () => {
      slot.connected = true;
      becameReady();
      this.pump();
    });
    session.on('remoteSettings', (settings) => {
      slot.settingsReceived = true;
      // Absent means "no limit" (RFC 9113); the cap applies.
      slot.remoteMaxStreams = settings.maxConcurrentStreams ?? Number.POSITIVE_INFINITY;
      becameReady();
      this.pump();
    });
    session.on('goaway', () => {
      // Node closes the session; streams APNs did not take fail (→ connection_lost).
      this.retire(slot, false);
      this.pump();
    });
    session.on('error', (error) => {
      failure ??= error;
    });
    session.on('close', () => {
      clearTimeout(slot.connectTimer);
      const index = this.slots.indexOf(slot);
      if (index >= 0) this.slots.splice(index, 1);
      for (const job of [...slot.inFlight]) this.settle(job, { kind: 'lost', reason: 'connection_lost' });
      // A connection that never answered anything (refused, TLS failure, or GOAWAY at once):
      // back off before the next one, as Apple treats rapid reconnects as an attack.
      if (slot.answers === 0 && !slot.closedByUs && !this.closed) {
        this.connectFailed(failure, slot.everReady ? 'connection_lost' : undefined);
        if (!this.slots.some((other) => other.everReady && !other.retired)) {
          this.failQueued(this.lastConnectError);
        }
      }
      markClosed();
      this.pump();
    });
  }

  private connectFailed(error: unknown, reason: string | undefined): void {
    this.connectFailures += 1;
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    this.lastConnectError = reason ?? (code === undefined ? 'connect_failed' : `connect_failed:${code}`);
    const backoff = Math.min(MAX_CONNECT_BACKOFF_MS, 250 * 2 ** (this.connectFailures - 1));
    this.reconnectAt = this.options.clock.now() + backoff;
  }

  private failQueued(reason: string): void {
    for (let job = this.queue.take(); job !== undefined; job = this.queue.take()) {
      this.settle(job, { kind: 'lost', reason });
    }
  }

  /** No new streams on `slot`; it closes once its streams are done (or time out). */
  private retire(slot: Slot, byUs: boolean): void {
    if (byUs) slot.closedByUs = true;
    if (slot.retired) return;
    slot.retired = true;
    const session = slot.session;
    if (!session.closed && !session.destroyed) session.close();
    // Streams that hang are cancelled by their own timers; then the session goes for sure.
    setTimeout(() => {
      if (!session.destroyed) session.destroy();
    }, this.options.requestTimeoutMs + 1_000).unref();
  }

  private destroy(slot: Slot): void {
    slot.retired = true;
    if (!slot.session.destroyed) slot.session.destroy();
  }

  private dispatch(slot: Slot, job: Job): void {
    const session = slot.session;
    let stream: ClientHttp2Stream;
    try {
      stream = session.request({ ':method': 'POST', ':path': job.path, ...job.headers });
    } catch {
      this.retire(slot, false);
      this.settle(job, { kind: 'lost', reason: 'connection_lost' });
      return;
    }
    job.slot = slot;
    job.stream = stream;
    slot.inFlight.add(job);
    slot.requests += 1;
    if (slot.inFlight.size === 1) session.ref();
    job.timer = setTimeout(() => this.timedOut(job), this.options.requestTimeoutMs);

    let status: number | undefined;
    let apnsId: string | undefined;
    let retryAfter: string | undefined;
    let body = '';
    const answer = (): Outcome =>
      status === undefined
        ? { kind: 'lost', reason: 'connection_lost' }
        : { kind: 'answer', status, apnsId, retryAfter, body };
    stream.setEncoding('utf8');
    stream.on('response', (headers: IncomingHttpHeaders) => {
      status = Number(headers[':status']);
      apnsId = single(headers['apns-id']);
      retryAfter = single(headers['retry-after']);
    });
    stream.on('data', (chunk: string) => {
      if (body.length < 65_536) body += chunk;
    });
    stream.on('end', () => this.settle(job, answer()));
    stream.on('close', () => this.settle(job, answer()));
    stream.on('error', () => {
      // 'close' follows and settles the job.
    });
    job.unsent = true;
    slot.unsentBytes += job.bodyBytes;
    stream.end(job.body, () => this.sent(slot, job));
    if (slot.requests >= MAX_REQUESTS_PER_CONNECTION) this.retire(slot, true);
  }

  private timedOut(job: Job): void {
    const slot = job.slot;
    const stream = job.stream;
    this.settle(job, { kind: 'lost', reason: 'timeout' });
    if (stream !== undefined && !stream.closed) stream.close(h2.NGHTTP2_CANCEL);
    if (slot !== undefined) this.checkHealth(slot);
  }

  /** After a timeout: a PING; no answer within the request timeout → the session is replaced. */
  private checkHealth(slot: Slot): void {
    if (slot.pinging || slot.retired) return;
    slot.pinging = true;
    const deadline = setTimeout(() => this.destroy(slot), this.options.requestTimeoutMs);
    deadline.unref();
    try {
      const sent = slot.session.ping((error) => {
        clearTimeout(deadline);
        slot.pinging = false;
        if (error !== null) this.destroy(slot);
      });
      if (!sent) {
        clearTimeout(deadline);
        this.destroy(slot);
      }
    } catch {
      clearTimeout(deadline);
      this.destroy(slot);
    }
  }

  /** The body of `job` left Node (or never will): it no longer waits for the send window. */
  private sent(slot: Slot, job: Job): void {
    if (!job.unsent) return;
    job.unsent = false;
    slot.unsentBytes -= job.bodyBytes;
  }

  private settle(job: Job, outcome: Outcome): void {
    if (job.settled) return;
    job.settled = true;
    clearTimeout(job.timer);
    const slot = job.slot;
    if (slot !== undefined) {
      this.sent(slot, job);
      slot.inFlight.delete(job);
      if (outcome.kind === 'answer') {
        slot.answers += 1;
        this.connectFailures = 0;
        this.reconnectAt = 0;
        if (acceptsProviderToken(outcome)) slot.warm = true;
      }
      if (slot.inFlight.size === 0 && !slot.session.destroyed) slot.session.unref();
    }
    job.resolve(outcome);
    this.pump();
  }
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** An answer that shows APNs took our JWT: anything but an auth refusal or a server fault. */
function acceptsProviderToken(outcome: Extract<Outcome, { kind: 'answer' }>): boolean {
  return outcome.status < 500 && outcome.status !== 403 && outcome.status !== 429;
}

// ---------------------------------------------------------------------------------------------
// The adapter

export interface ApnsAdapterOptions {
  /** Unix ms: the JWT's `iat`, its age, and message expiry. */
  clock: Clock;
  /** Connections per APNs host (production, sandbox). Default 2. */
  maxConnections?: number;
  /** Per request, and for opening a connection. Default 10 s. */
  requestTimeoutMs?: number;
  /** Where the JWT of a signing key is kept. Default: one store per process. */
  providerTokens?: ProviderTokenStore;
  /** Age at which the JWT is signed anew, 20–55 minutes. Default 50 minutes. */
  tokenRefreshAgeMs?: number;
  /** Cap on concurrent streams per connection, below the server's own limit. Default 1000. */
  maxStreamsPerConnection?: number;
}

export const APNS_PROVIDER = 'apns';

/**
 * An APNs adapter for one app's credentials. Throws (at creation only) when the credentials
 * are invalid; `send` never throws: every fault becomes a result.
 */
export function createApnsAdapter(credentials: ApnsCredentials, options: ApnsAdapterOptions) {
  const checked = validateApnsCredentials(credentials);
  if (!checked.ok) throw new Error(`Invalid APNs credentials: ${checked.error}`);
  const clock = options.clock;
  const maxConnections = Math.max(1, Math.floor(options.maxConnections ?? 2));
  const requestTimeoutMs = Math.max(1, options.requestTimeoutMs ?? 10_000);
  const maxStreamsPerConnection = Math.max(1, Math.floor(options.maxStreamsPerConnection ?? 1000));
  const refreshAgeMs = options.tokenRefreshAgeMs ?? APNS_TOKEN_DEFAULT_REFRESH_AGE_MS;
  if (!(refreshAgeMs >= APNS_TOKEN_MIN_AGE_MS && refreshAgeMs <= APNS_TOKEN_MAX_REFRESH_AGE_MS)) {
    throw new Error('tokenRefreshAgeMs must be between 20 and 55 minutes');
  }
  const endpoints = apnsEndpoints(credentials);
  const tokens = isTokenCredentials(credentials)
    ? new ProviderTokens(credentials, options.providerTokens ?? processProviderTokens, clock, refreshAgeMs)
    : undefined;
  const tls: SecureClientSessionOptions = {
    settings: { enablePush: false },
    maxSessionMemory: 64,
    ...(credentials.ca !== undefined ? { ca: credentials.ca } : {}),
    ...(isTokenCredentials(credentials)
      ? {}
      : {
          pfx: Buffer.from(credentials.certificate.replace(/\s+/g, ''), 'base64'),
          passphrase: credentials.passphrase ?? '',
        }),
  };
  const pools = new Map<string, ConnectionPool>();
  let closed = false;

  const pool = (origin: string): ConnectionPool => {
    let found = pools.get(origin);
    if (found === undefined) {
      found = new ConnectionPool({
        origin,
        clock,
        tls,
        tokenAuth: tokens !== undefined,
        maxConnections,
        maxStreamsPerConnection,
        requestTimeoutMs,
      });
      pools.set(origin, found);
    }
    return found;
  };

  const result = (outcome: Outcome): PushResult => {
    if (outcome.kind === 'lost') return { ok: false, failure: 'retry', reason: outcome.reason };
    if (outcome.status >= 200 && outcome.status < 300) return { ok: true, providerMessageId: outcome.apnsId };
    return classifyApnsError(outcome.status, apnsErrorReason(outcome.body), {
      header: outcome.retryAfter,
      now: clock.now(),
    });
  };

  const sendOne = async (message: PushMessage): Promise<PushResult> => {
    if (closed) return { ok: false, failure: 'retry', reason: 'adapter_closed' };
    const now = clock.now();
    if (message.expiresAt <= now) return { ok: false, failure: 'bad_request', reason: 'expired' };
    // What APNs itself would answer, without the round trip.
    if (!isApnsDeviceToken(message.token)) return { ok: false, failure: 'dead', reason: 'BadDeviceToken' };
    if (message.bundleId === '') return { ok: false, failure: 'bad_request', reason: 'MissingTopic' };
    if (
      message.collapseId !== undefined &&
      Buffer.byteLength(message.collapseId) > APNS_MAX_COLLAPSE_ID_BYTES
    ) {
      return { ok: false, failure: 'bad_request', reason: 'BadCollapseId' };
    }
    const request = buildApnsRequest(message, endpoints, now);
    if (Buffer.byteLength(request.body) > apnsPayloadLimit(message)) {
      return { ok: false, failure: 'bad_request', reason: 'PayloadTooLarge' };
    }
    const origin = message.environment === 'sandbox' ? endpoints.sandboxUrl : endpoints.productionUrl;
    const target = pool(origin);
    const path = request.url.slice(origin.length);
    if (tokens === undefined) return result(await target.execute(path, request.headers, request.body));

    let token: ProviderToken;
    try {
      token = await tokens.current();
    } catch {
      return { ok: false, failure: 'retry', reason: 'provider_token_unavailable' };
    }
    const outcome = await target.execute(
      path,
      { ...request.headers, authorization: `bearer ${token.jwt}` },
      request.body,
    );
    if (
      outcome.kind !== 'answer' ||
      outcome.status !== 403 ||
      apnsErrorReason(outcome.body) !== 'ExpiredProviderToken'
    ) {
      return result(outcome);
    }
    // Once: a fresh JWT (or the one another sender already made), then the same request.
    let renewed: ProviderToken | undefined;
    try {
      renewed = await tokens.renewAfterExpired(token);
    } catch {
      renewed = undefined;
    }
    if (renewed === undefined || message.expiresAt <= clock.now()) return result(outcome);
    return result(
      await target.execute(
        path,
        { ...request.headers, authorization: `bearer ${renewed.jwt}` },
        request.body,
      ),
    );
  };

  const safeSend = (message: PushMessage): Promise<PushResult> =>
    sendOne(message).catch(
      (error: unknown): PushResult => ({
        ok: false,
        failure: 'retry',
        reason: `internal_error:${error instanceof Error ? error.name : 'unknown'}`,
      }),
    );

  return {
    provider: APNS_PROVIDER,
    send: (messages: readonly PushMessage[]) => Promise.all(messages.map(safeSend)),
    close: async () => {
      closed = true;
      await Promise.all([...pools.values()].map((each) => each.close()));
    },
  } satisfies PushAdapter;
}
