import {
  type ClientHttp2Session,
  connect,
  type OutgoingHttpHeaders,
  type SecureClientSessionOptions,
} from 'node:http2';
import type { Clock } from '../../../clock.js';
import { Fifo } from './fifo.js';
import {
  type ConnectionEvents,
  type Http2Answer,
  Http2Connection,
  type Http2Outcome,
  type PendingRequest,
} from './http2-connection.js';

export type { Http2Answer, Http2Outcome } from './http2-connection.js';

/** Well below the 2^30 client stream ids of a connection: then a fresh connection. */
const DEFAULT_MAX_REQUESTS_PER_CONNECTION = 1_000_000_000;
const MAX_CONNECT_BACKOFF_MS = 30_000;

export interface Http2PoolOptions {
  /** `https://host:port` (or `http://` for cleartext HTTP/2). */
  origin: string;
  /** Back-off after failed connections is measured on it. */
  clock: Clock;
  tls: SecureClientSessionOptions;
  maxConnections: number;
  /** Cap on concurrent streams per connection, below the server's own limit. */
  maxStreamsPerConnection: number;
  /** Per request, and for opening a connection. */
  requestTimeoutMs: number;
  /** After this many requests a connection is replaced. Default: 10^9. */
  maxRequestsPerConnection?: number;
  /**
   * When set, a new connection carries one stream at a time until an answer satisfies this
   * (e.g. one showing the server took our credentials), so that a refusal costs one request
   * rather than a burst of them.
   */
  warmWhen?: (answer: Http2Answer) => boolean;
  /** Answer bodies are kept up to this many characters. Default 65,536. */
  maxBodyChars?: number;
}

/**
 * The connections to one HTTP/2 origin: at most `maxConnections` long-lived sessions, opened
 * on demand and reused, each carrying as many concurrent streams as the server allows
 * (SETTINGS_MAX_CONCURRENT_STREAMS, capped); requests beyond that wait in a queue, in order.
 * A connection closed by GOAWAY or by the server is replaced; connections that fail in a row
 * back off exponentially (up to 30 s), and meanwhile requests fail fast. `post` never throws:
 * every fault is a `lost` outcome with a reason (`adapter_closed`, `connection_lost`,
 * `timeout`, `connect_failed[:CODE]`).
 */
export class Http2Pool {
  private readonly connections: Http2Connection[] = [];
  private readonly queue = new Fifo<PendingRequest>();
  private readonly events: ConnectionEvents;
  private pumping = false;
  private closed = false;
  /** Connections in a row that failed (or were closed by the server before any answer). */
  private connectFailures = 0;
  /** No new connection before this (clock ms): requests fail fast meanwhile. */
  private reconnectAt = 0;
  private lastConnectError = 'connect_failed';

  constructor(private readonly options: Http2PoolOptions) {
    this.events = {
      changed: () => this.pump(),
      outcome: (request, outcome) => this.settle(request, outcome),
      closed: (connection, failure) => this.connectionClosed(connection, failure),
    };
  }

  /** Connections open or opening (for tests and metrics). */
  get connectionCount(): number {
    return this.connections.length;
  }

  post(path: string, headers: OutgoingHttpHeaders, body: string): Promise<Http2Outcome> {
    if (this.closed) return Promise.resolve({ kind: 'lost', reason: 'adapter_closed' });
    if (!this.hasLiveConnection() && this.backingOff()) {
      return Promise.resolve({ kind: 'lost', reason: this.lastConnectError });
    }
    return new Promise<Http2Outcome>((resolve) => {
      this.queue.push({
        path,
        headers,
        body,
        bodyBytes: Buffer.byteLength(body),
        unsent: false,
        resolve,
        settled: false,
        connection: undefined,
        stream: undefined,
        timer: undefined,
      });
      this.pump();
    });
  }

  /** Fails what waits, lets what is in flight finish, and closes every connection. */
  async close(): Promise<void> {
    this.closed = true;
    this.failQueued('adapter_closed');
    const closing = this.connections.map((connection) => {
      connection.retire(true);
      return connection.closed;
    });
    await Promise.all(closing);
  }

  /** Within the back-off after failed connections (a clock set back ends it). */
  private backingOff(): boolean {
    const now = this.options.clock.now();
    return now < this.reconnectAt && this.reconnectAt - now <= MAX_CONNECT_BACKOFF_MS;
  }

  private hasLiveConnection(): boolean {
    return this.connections.some((connection) => !connection.retired);
  }

  /** Queued requests go, in order, each to the connection with the most room that fits it. */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    for (const connection of this.connections) connection.windowBudget = undefined;
    try {
      for (let request = this.queue.peek(); request !== undefined; request = this.queue.peek()) {
        let best: Http2Connection | undefined;
        let bestSpare = 0;
        for (const connection of this.connections) {
          const spare = connection.capacity(this.options.maxStreamsPerConnection);
          if (spare > bestSpare && connection.fitsWindow(request)) {
            best = connection;
            bestSpare = spare;
          }
        }
        if (best === undefined) {
          this.maybeConnect();
          break;
        }
        this.queue.take();
        if (best.windowBudget !== undefined) best.windowBudget -= request.bodyBytes;
        if (!best.start(request)) {
          best.retire(false);
          this.settle(request, { kind: 'lost', reason: 'connection_lost' });
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  /** A new connection when the queue outgrows what connections being opened will take. */
  private maybeConnect(): void {
    if (this.closed) return;
    const live = this.connections.filter((connection) => !connection.retired);
    const opening = live.filter((connection) => !connection.everReady).length;
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
    const connection = new Http2Connection(
      session,
      {
        requestTimeoutMs: this.options.requestTimeoutMs,
        maxRequests: this.options.maxRequestsPerConnection ?? DEFAULT_MAX_REQUESTS_PER_CONNECTION,
        warmWhen: this.options.warmWhen,
        maxBodyChars: this.options.maxBodyChars ?? 65_536,
      },
      this.events,
    );
    this.connections.push(connection);
  }

  private connectionClosed(connection: Http2Connection, failure: unknown): void {
    const index = this.connections.indexOf(connection);
    if (index >= 0) this.connections.splice(index, 1);
    for (const request of [...connection.inFlight]) {
      this.settle(request, { kind: 'lost', reason: 'connection_lost' });
    }
    // A connection that never answered anything (refused, TLS failure, or GOAWAY at once):
    // back off before the next one; rapid reconnects look like an attack to some servers.
    if (connection.answers === 0 && !connection.closedByUs && !this.closed) {
      this.connectFailed(failure, connection.everReady ? 'connection_lost' : undefined);
      if (!this.connections.some((other) => other.everReady && !other.retired)) {
        this.failQueued(this.lastConnectError);
      }
    }
  }

  private connectFailed(error: unknown, reason: string | undefined): void {
    this.connectFailures += 1;
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    this.lastConnectError = reason ?? (code === undefined ? 'connect_failed' : `connect_failed:${code}`);
    const backoff = Math.min(MAX_CONNECT_BACKOFF_MS, 250 * 2 ** (this.connectFailures - 1));
    this.reconnectAt = this.options.clock.now() + backoff;
  }

  private failQueued(reason: string): void {
    for (let request = this.queue.take(); request !== undefined; request = this.queue.take()) {
      this.settle(request, { kind: 'lost', reason });
    }
  }

  private settle(request: PendingRequest, outcome: Http2Outcome): void {
    if (request.settled) return;
    request.settled = true;
    clearTimeout(request.timer);
    const connection = request.connection;
    if (connection !== undefined) {
      connection.finish(request, outcome);
      if (outcome.kind === 'answer') {
        this.connectFailures = 0;
        this.reconnectAt = 0;
      }
    }
    request.resolve(outcome);
    this.pump();
  }
}
