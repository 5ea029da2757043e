import http from 'node:http';
import https from 'node:https';
import { createSecureContext, rootCertificates } from 'node:tls';

/** An HTTP answer, whatever its status. */
export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** No answer: the connection failed, timed out, or the client is closed. */
export class HttpTransportError extends Error {
  override name = 'HttpTransportError';
  constructor(
    /** `tls_error`: the server's certificate did not verify (wrong `url` or `ca`?). */
    readonly reason: 'timeout' | 'network_error' | 'tls_error' | 'closed',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type HttpPost = (url: string, headers: Record<string, string>, body: string) => Promise<HttpAnswer>;
export type HttpGet = (url: string, headers: Record<string, string>) => Promise<HttpAnswer>;

export interface HttpClientOptions {
  /** Extra trusted CA certificates (PEM), added to the public roots. */
  ca?: string | undefined;
  /** Connections per host (HTTP/1.1 keep-alive pool). */
  maxSockets: number;
  /** For the whole exchange: connecting, sending, and reading the answer. */
  timeoutMs: number;
}

/** Bodies past this are cut: provider answers are small, anything bigger is a proxy's page. */
const MAX_BODY_BYTES = 256 * 1024;

const retryableOnReusedSocket = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

/** OpenSSL's certificate-verification codes, and node's host-name mismatch. */
const certificateError = /CERT|SELF_SIGNED|UNABLE_TO_(VERIFY|GET_ISSUER)|ERR_TLS_CERT_ALTNAME_INVALID/;

/**
 * One keep-alive connection pool per scheme, created on first use and reused by every request
 * (at most `maxSockets` connections per host). Requests are HTTP/1.1, which every proxy speaks.
 */
export class HttpClient {
  private httpsAgent: https.Agent | undefined;
  private httpAgent: http.Agent | undefined;
  private closed = false;

  constructor(private readonly options: HttpClientOptions) {}

  readonly post: HttpPost = (url, headers, body) => this.request('POST', new URL(url), headers, body, false);

  readonly get: HttpGet = (url, headers) => this.request('GET', new URL(url), headers, undefined, false);

  private agentFor(url: URL): http.Agent {
    const common = {
      keepAlive: true,
      maxSockets: this.options.maxSockets,
      maxFreeSockets: this.options.maxSockets,
      scheduling: 'lifo' as const,
    };
    if (url.protocol === 'https:') {
      // The CA goes in one secure context, built once: as an agent's `ca` option the ~150
      // public roots would be parsed on every handshake and joined into every pool lookup key.
      this.httpsAgent ??= new https.Agent({
        ...common,
        ...(this.options.ca !== undefined
          ? { secureContext: createSecureContext({ ca: [...rootCertificates, this.options.ca] }) }
          : {}),
      });
      return this.httpsAgent;
    }
    this.httpAgent ??= new http.Agent(common);
    return this.httpAgent;
  }

  private request(
    method: 'GET' | 'POST',
    url: URL,
    headers: Record<string, string>,
    body: string | undefined,
    isRetry: boolean,
  ): Promise<HttpAnswer> {
    if (this.closed) return Promise.reject(new HttpTransportError('closed', 'the HTTP client is closed'));
    const payload = body === undefined ? undefined : Buffer.from(body, 'utf8');
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise<HttpAnswer>((resolve, reject) => {
      let answered = false;
      let settled = false;
      const finish = (error: Error | undefined, answer?: HttpAnswer) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error === undefined && answer !== undefined) resolve(answer);
        else reject(error);
      };
      const request = transport.request(
        url,
        {
          method,
          agent: this.agentFor(url),
          headers: payload === undefined ? headers : { ...headers, 'content-length': String(payload.length) },
        },
        (response) => {
          answered = true;
          readAnswer(response, finish);
        },
      );
      // After a stall of the loop (a starved process) expired timers run before the sockets are
      // read: the timeout waits for that turn of I/O, so an answer that has arrived wins.
      const timer = setTimeout(
        () =>
          setImmediate(() => {
            if (settled) return;
            const error = new HttpTransportError('timeout', `no answer within ${this.options.timeoutMs} ms`);
            finish(error);
            request.destroy(error);
          }),
        this.options.timeoutMs,
      );
      request.on('error', (error: NodeJS.ErrnoException) => {
        if (settled) return;
        if (error instanceof HttpTransportError) {
          finish(error);
          return;
        }
        // A kept-alive connection the server had closed just as we used it (idle timeout): the
        // request almost surely went nowhere, so it is sent once more on a fresh connection
        // (node's documented `reusedSocket` pattern). Any other fault is the caller's retry.
        if (!answered && !isRetry && request.reusedSocket && retryableOnReusedSocket.has(error.code ?? '')) {
          settled = true;
          clearTimeout(timer);
          this.request(method, url, headers, body, true).then(resolve, reject);
          return;
        }
        const reason = this.closed
          ? 'closed'
          : certificateError.test(error.code ?? '')
            ? 'tls_error'
            : 'network_error';
        finish(new HttpTransportError(reason, error.message, { cause: error }));
      });
      request.end(payload);
    });
  }

  /** Closes every connection; requests in flight fail with `closed`. */
  async close(): Promise<void> {
    this.closed = true;
    this.httpsAgent?.destroy();
    this.httpAgent?.destroy();
    this.httpsAgent = undefined;
    this.httpAgent = undefined;
  }
}

/** Reads an answer's body (at most MAX_BODY_BYTES of it) and settles the request with it. */
function readAnswer(
  response: http.IncomingMessage,
  finish: (error: Error | undefined, answer?: HttpAnswer) => void,
): void {
  const chunks: Buffer[] = [];
  let size = 0;
  response.on('data', (chunk: Buffer) => {
    if (size < MAX_BODY_BYTES) chunks.push(chunk);
    size += chunk.length;
  });
  response.on('end', () => {
    finish(undefined, {
      status: response.statusCode ?? 0,
      headers: response.headers,
      body: Buffer.concat(chunks).toString('utf8').slice(0, MAX_BODY_BYTES),
    });
  });
  response.on('error', (error) => {
    finish(new HttpTransportError('network_error', error.message, { cause: error }));
  });
  // After `end` this is a no-op; before it, the answer was cut off.
  response.on('close', () => {
    finish(new HttpTransportError('network_error', 'the connection closed mid-answer'));
  });
}
