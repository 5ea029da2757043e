import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  constants as h2,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from 'node:http2';

/** What came back for one request on the wire: an answer, or why there was none. */
export type Http2Outcome =
  | { kind: 'answer'; status: number; headers: IncomingHttpHeaders; body: string }
  | { kind: 'lost'; reason: string };

export type Http2Answer = Extract<Http2Outcome, { kind: 'answer' }>;

/** One POST, from the queue to its outcome. */
export interface PendingRequest {
  path: string;
  headers: OutgoingHttpHeaders;
  body: string;
  bodyBytes: number;
  /** Started, and Node has not yet reported the body sent. */
  unsent: boolean;
  resolve: (outcome: Http2Outcome) => void;
  settled: boolean;
  connection: Http2Connection | undefined;
  stream: ClientHttp2Stream | undefined;
  timer: NodeJS.Timeout | undefined;
  /** The answer's headers arrived (its body may still be on its way). */
  answered?: boolean;
}

/** What a connection tells its pool. */
export interface ConnectionEvents {
  /** Something changed that may let queued requests go (ready, GOAWAY, closed, …). */
  changed(): void;
  /** `request` has its outcome (the pool settles it; later outcomes are ignored). */
  outcome(request: PendingRequest, outcome: Http2Outcome): void;
  /** The session is gone; `failure` is the first error it reported, if any. */
  closed(connection: Http2Connection, failure: unknown): void;
}

export interface ConnectionOptions {
  requestTimeoutMs: number;
  /** After this many requests the connection is retired and a fresh one takes over. */
  maxRequests: number;
  /** One stream at a time until an answer satisfies this (undefined: no such wait). */
  warmWhen: ((answer: Http2Answer) => boolean) | undefined;
  /** Answer bodies are kept up to this many characters. */
  maxBodyChars: number;
}

/**
 * One HTTP/2 session of a pool and what it carries: its streams in flight, whether it is
 * ready, warm or retired, and its share of the send window. The pool decides what goes where.
 */
export class Http2Connection {
  private connected = false;
  private settingsReceived = false;
  /** Connected and the server's settings received, once. */
  everReady = false;
  /** Until an answer shows the server accepts this connection's credentials: one stream at a time. */
  private warm: boolean;
  /** No new streams; closes once drained. */
  retired = false;
  /** Closed by us (pool closed, or the connection used up): not a failure of the server. */
  closedByUs = false;
  /** Answers received on this connection. */
  answers = 0;
  private remoteMaxStreams = 1;
  readonly inFlight = new Set<PendingRequest>();
  private requests = 0;
  private pinging = false;
  /** Body bytes handed to Node and not yet sent: they will take that much of the send window. */
  private unsentBytes = 0;
  /** During one pump: what the send window still takes (undefined: not read yet). */
  windowBudget: number | undefined;
  private readonly connectTimer: NodeJS.Timeout;
  readonly closed: Promise<void>;

  constructor(
    readonly session: ClientHttp2Session,
    private readonly options: ConnectionOptions,
    private readonly events: ConnectionEvents,
  ) {
    this.warm = options.warmWhen === undefined;
    let markClosed: () => void = () => {};
    this.closed = new Promise<void>((resolve) => {
      markClosed = resolve;
    });
    let failure: unknown;
    this.connectTimer = setTimeout(() => {
      failure = Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' });
      session.destroy();
    }, options.requestTimeoutMs);
    session.once('connect', () => {
      this.connected = true;
      this.becameReady();
      events.changed();
    });
    session.on('remoteSettings', (settings) => {
      this.settingsReceived = true;
      // Absent means "no limit" (RFC 9113); the pool's cap applies.
      this.remoteMaxStreams = settings.maxConcurrentStreams ?? Number.POSITIVE_INFINITY;
      this.becameReady();
      events.changed();
    });
    session.on('goaway', () => {
      // Node closes the session; streams the server did not take fail (→ connection_lost).
      this.retire(false);
      events.changed();
    });
    session.on('error', (error) => {
      failure ??= error;
    });
    session.on('close', () => {
      clearTimeout(this.connectTimer);
      events.closed(this, failure);
      markClosed();
      events.changed();
    });
  }

  private becameReady(): void {
    if (this.everReady || !this.connected || !this.settingsReceived) return;
    this.everReady = true;
    clearTimeout(this.connectTimer);
    if (this.inFlight.size === 0) this.session.unref();
  }

  /** How many more streams it takes now, within `maxStreams` and the server's own limit. */
  capacity(maxStreams: number): number {
    if (this.retired || !this.connected || !this.settingsReceived) return 0;
    if (this.requests >= this.options.maxRequests) return 0;
    if (this.session.closed || this.session.destroyed) return 0;
    const limit = this.warm ? Math.min(this.remoteMaxStreams, maxStreams) : 1;
    return limit - this.inFlight.size;
  }

  /**
   * Whether `request` fits as far as HTTP/2 flow control goes: its body must fit in the
   * connection's send window, less the bodies already handed to Node and not yet sent. A body
   * that straddles the end of the window is sent in part, and Node can leave the rest of it
   * stalled for good while newer streams go (seen in bursts: a stream that never completes
   * until it times out). Waiting here instead, in order, costs nothing: the window reopens as
   * the server reads, and answers (each one a new pump) keep coming. With nothing in flight it
   * goes regardless, so that a small window never blocks the queue.
   */
  fitsWindow(request: PendingRequest): boolean {
    if (this.inFlight.size === 0) return true;
    if (this.windowBudget === undefined) {
      const window = this.session.state.remoteWindowSize ?? Number.POSITIVE_INFINITY;
      this.windowBudget = window - this.unsentBytes;
    }
    return request.bodyBytes <= this.windowBudget;
  }

  /** Starts `request` as a POST on this session; false when the session refuses new streams. */
  start(request: PendingRequest): boolean {
    let stream: ClientHttp2Stream;
    try {
      stream = this.session.request({ ':method': 'POST', ':path': request.path, ...request.headers });
    } catch {
      return false;
    }
    request.connection = this;
    request.stream = stream;
    this.inFlight.add(request);
    this.requests += 1;
    if (this.inFlight.size === 1) this.session.ref();
    // A loop stalled past the timeout (a starved process) runs expired timers before it reads
    // the sockets: the check waits for one turn of I/O, so an answer that has arrived is read
    // first instead of being taken for a timeout and sent again.
    request.timer = setTimeout(
      () => setImmediate(() => this.timedOut(request)),
      this.options.requestTimeoutMs,
    );

    let status: number | undefined;
    let headers: IncomingHttpHeaders = {};
    let body = '';
    const outcome = (): Http2Outcome =>
      status === undefined
        ? { kind: 'lost', reason: 'connection_lost' }
        : { kind: 'answer', status, headers, body };
    stream.setEncoding('utf8');
    stream.on('response', (answered: IncomingHttpHeaders) => {
      status = Number(answered[':status']);
      headers = answered;
      request.answered = true;
    });
    stream.on('data', (chunk: string) => {
      if (body.length < this.options.maxBodyChars) body += chunk;
    });
    stream.on('end', () => this.events.outcome(request, outcome()));
    stream.on('close', () => this.events.outcome(request, outcome()));
    stream.on('error', () => {
      // 'close' follows and settles the request.
    });
    request.unsent = true;
    this.unsentBytes += request.bodyBytes;
    stream.end(request.body, () => this.sent(request));
    return true;
  }

  /** `request` (one of ours) has its outcome: it leaves the connection. */
  finish(request: PendingRequest, outcome: Http2Outcome): void {
    this.sent(request);
    this.inFlight.delete(request);
    if (outcome.kind === 'answer') {
      this.answers += 1;
      if (this.options.warmWhen?.(outcome)) this.warm = true;
    }
    if (this.inFlight.size === 0 && !this.session.destroyed) this.session.unref();
    // Used up: closed only now, as closing a session at once refuses the stream just started.
    if (this.requests >= this.options.maxRequests) this.retire(true);
  }

  /** No new streams; the session closes once its streams are done (or time out). */
  retire(byUs: boolean): void {
    if (byUs) this.closedByUs = true;
    if (this.retired) return;
    this.retired = true;
    const session = this.session;
    if (!session.closed && !session.destroyed) session.close();
    // Streams that hang are cancelled by their own timers; then the session goes for sure.
    setTimeout(() => {
      if (!session.destroyed) session.destroy();
    }, this.options.requestTimeoutMs + 1_000).unref();
  }

  private destroy(): void {
    this.retired = true;
    if (!this.session.destroyed) this.session.destroy();
  }

  private timedOut(request: PendingRequest): void {
    if (request.settled) return;
    if (request.answered === true) {
      // Its answer is coming in: one more period for the body, then it times out as any other.
      request.answered = false;
      request.timer = setTimeout(
        () => setImmediate(() => this.timedOut(request)),
        this.options.requestTimeoutMs,
      );
      return;
    }
    const stream = request.stream;
    this.events.outcome(request, { kind: 'lost', reason: 'timeout' });
    if (stream !== undefined && !stream.closed) stream.close(h2.NGHTTP2_CANCEL);
    this.checkHealth();
  }

  /** After a timeout: a PING; no answer within the request timeout → the session is replaced. */
  private checkHealth(): void {
    if (this.pinging || this.retired) return;
    this.pinging = true;
    const deadline = setTimeout(() => this.destroy(), this.options.requestTimeoutMs);
    deadline.unref();
    try {
      const sent = this.session.ping((error) => {
        clearTimeout(deadline);
        this.pinging = false;
        if (error !== null) this.destroy();
      });
      if (!sent) {
        clearTimeout(deadline);
        this.destroy();
      }
    } catch {
      clearTimeout(deadline);
      this.destroy();
    }
  }

  /** The body of `request` left Node (or never will): it no longer waits for the send window. */
  private sent(request: PendingRequest): void {
    if (!request.unsent) return;
    request.unsent = false;
    this.unsentBytes -= request.bodyBytes;
  }
}
