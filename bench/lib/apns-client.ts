import { createPrivateKey, randomUUID, sign } from 'node:crypto';
import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  connect,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from 'node:http2';

/**
 * The least an APNs sender can do, for the dispatch bench's baseline: a plain node:http2
 * client with token auth (ONE ES256 JWT, signed once and reused on every request), a few
 * long-lived connections, and requests pipelined over as many concurrent streams as the server
 * allows (SETTINGS_MAX_CONCURRENT_STREAMS, capped), never more body bytes handed to a
 * connection than its HTTP/2 send window takes. No database, no queue, no retries.
 */

/** An APNs provider token: `{alg: ES256, kid}.{iss, iat}`, signed with the .p8 key. */
export function apnsJwt(options: { teamId: string; keyId: string; p8: string; now?: number }): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const iat = Math.floor((options.now ?? Date.now()) / 1000);
  const input = `${encode({ alg: 'ES256', kid: options.keyId })}.${encode({ iss: options.teamId, iat })}`;
  const signature = sign('sha256', Buffer.from(input), {
    key: createPrivateKey(options.p8),
    dsaEncoding: 'ieee-p1363',
  });
  return `${input}.${signature.toString('base64url')}`;
}

/** One push as it goes on the wire (without `:method`, `:path` and `authorization`). */
export interface PlainPush {
  token: string;
  headers: OutgoingHttpHeaders;
  body: string;
}

/** The headers Bellhop sends for a message (an alert), for a like-for-like baseline. */
export function alertHeaders(bundleId: string, expiresAtMs: number): OutgoingHttpHeaders {
  return {
    'apns-push-type': 'alert',
    'apns-topic': bundleId,
    'apns-priority': '10',
    'apns-expiration': String(Math.floor(expiresAtMs / 1000)),
    'apns-id': randomUUID(),
    'content-type': 'application/json',
  };
}

export interface PlainRunResult {
  /** Requests answered 200. */
  ok: number;
  /** Other outcomes, by status (`lost` when the stream closed without an answer). */
  failed: Record<string, number>;
  /** From the first request to the last answer, in ms (this process's clock). */
  ms: number;
  /** The most streams in flight on one connection. */
  maxInFlight: number;
}

interface Connection {
  session: ClientHttp2Session;
  inFlight: number;
  /** Body bytes handed to Node and not yet written: they will use that much of the send window. */
  unsentBytes: number;
}

export class PlainApnsClient {
  private readonly connections: Connection[] = [];
  /** The running `run`'s pump, called when a server raises its stream limit. */
  private wake: (() => void) | undefined;

  constructor(
    private readonly options: {
      /** `https://host:port` */
      url: string;
      /** PEM of the CA that signed the server's certificate. */
      ca: string;
      jwt: string;
      connections: number;
      /** Cap on concurrent streams per connection, below the server's own limit. */
      maxStreamsPerConnection: number;
    },
  ) {}

  /** Opens the connections and waits until each has the server's SETTINGS. */
  async connect(): Promise<void> {
    const opening: Array<Promise<void>> = [];
    for (let index = 0; index < this.options.connections; index += 1) {
      const session = connect(this.options.url, { ca: this.options.ca, settings: { enablePush: false } });
      session.on('error', () => {});
      // The server raises SETTINGS_MAX_CONCURRENT_STREAMS once a JWT was accepted.
      session.on('remoteSettings', () => this.wake?.());
      const connection: Connection = { session, inFlight: 0, unsentBytes: 0 };
      this.connections.push(connection);
      opening.push(
        new Promise<void>((resolve, reject) => {
          session.once('error', reject);
          session.once('remoteSettings', () => {
            session.off('error', reject);
            resolve();
          });
        }),
      );
    }
    await Promise.all(opening);
  }

  /** Streams the server lets this connection have now (it starts at 1 until a JWT was accepted). */
  private limit(connection: Connection): number {
    const remote = connection.session.remoteSettings.maxConcurrentStreams ?? Number.POSITIVE_INFINITY;
    return Math.min(remote, this.options.maxStreamsPerConnection);
  }

  /**
   * Sends `count` pushes made by `make(index)`, keeping every connection's streams full, and
   * resolves when every one was answered (or lost).
   */
  run(count: number, make: (index: number) => PlainPush, timeoutMs = 300_000): Promise<PlainRunResult> {
    return new Promise<PlainRunResult>((resolve, reject) => {
      if (count === 0) {
        resolve({ ok: 0, failed: {}, ms: 0, maxInFlight: 0 });
        return;
      }
      const run = new PlainRun(this.connections, this.options.jwt, count, make, {
        limit: (connection) => this.limit(connection),
        finish: (result) => {
          clearTimeout(timer);
          this.wake = undefined;
          resolve(result);
        },
      });
      const timer = setTimeout(() => {
        this.wake = undefined;
        reject(new Error(`baseline client: ${run.finished} of ${count} answered within ${timeoutMs} ms`));
      }, timeoutMs);
      this.wake = () => run.pump();
      run.pump();
    });
  }

  async close(): Promise<void> {
    await Promise.all(
      this.connections.map(
        (connection) =>
          new Promise<void>((resolve) => {
            if (connection.session.closed || connection.session.destroyed) resolve();
            else connection.session.close(() => resolve());
          }),
      ),
    );
  }
}

/** One `run` of the client: what was sent and answered, and the pump that keeps streams full. */
class PlainRun {
  private readonly failed: Record<string, number> = {};
  private ok = 0;
  private next = 0;
  finished = 0;
  private maxInFlight = 0;
  private pumping = false;
  private readonly started = performance.now();

  constructor(
    private readonly connections: readonly Connection[],
    private readonly jwt: string,
    private readonly count: number,
    private readonly make: (index: number) => PlainPush,
    private readonly hooks: {
      limit: (connection: Connection) => number;
      finish: (result: PlainRunResult) => void;
    },
  ) {}

  private complete(connection: Connection, status: number | undefined): void {
    connection.inFlight -= 1;
    this.finished += 1;
    if (status === 200) this.ok += 1;
    else {
      const key = status === undefined ? 'lost' : String(status);
      this.failed[key] = (this.failed[key] ?? 0) + 1;
    }
    if (this.finished === this.count) {
      const ms = performance.now() - this.started;
      this.hooks.finish({ ok: this.ok, failed: this.failed, ms, maxInFlight: this.maxInFlight });
      return;
    }
    this.pump();
  }

  private dispatch(connection: Connection, push: PlainPush, bytes: number): void {
    let stream: ClientHttp2Stream;
    try {
      stream = connection.session.request({
        ':method': 'POST',
        ':path': `/3/device/${push.token}`,
        authorization: `bearer ${this.jwt}`,
        ...push.headers,
      });
    } catch {
      connection.inFlight += 1;
      this.complete(connection, undefined);
      return;
    }
    connection.inFlight += 1;
    if (connection.inFlight > this.maxInFlight) this.maxInFlight = connection.inFlight;
    let status: number | undefined;
    let written = false;
    stream.on('response', (headers: IncomingHttpHeaders) => {
      status = Number(headers[':status']);
    });
    stream.on('error', () => {});
    stream.resume(); // APNs bodies (error reasons) are not needed: drain them
    stream.on('close', () => {
      if (!written) {
        written = true;
        connection.unsentBytes -= bytes;
      }
      this.complete(connection, status);
    });
    connection.unsentBytes += bytes;
    stream.end(push.body, () => {
      if (written) return;
      written = true;
      connection.unsentBytes -= bytes;
    });
  }

  /** Round robin over the connections, one stream at a time, while any has room. */
  pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      const budgets = this.connections.map(
        (connection) =>
          (connection.session.state.remoteWindowSize ?? Number.POSITIVE_INFINITY) - connection.unsentBytes,
      );
      let progress = true;
      while (this.next < this.count && progress) {
        progress = false;
        for (let index = 0; index < this.connections.length && this.next < this.count; index += 1) {
          const connection = this.connections[index] as Connection;
          if (connection.session.closed || connection.session.destroyed) continue;
          if (connection.inFlight >= this.hooks.limit(connection)) continue;
          const push = this.make(this.next);
          const bytes = Buffer.byteLength(push.body);
          const budget = budgets[index] ?? 0;
          // Flow control: the body must fit the connection's send window (unless the
          // connection is idle, so that a small window can never block the run).
          if (connection.inFlight > 0 && bytes > budget) continue;
          budgets[index] = budget - bytes;
          this.next += 1;
          this.dispatch(connection, push, bytes);
          progress = true;
        }
      }
    } finally {
      this.pumping = false;
    }
  }
}
