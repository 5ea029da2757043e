import { createLimiter } from '../../../limiter.js';
import type { PushResult } from '../adapter.js';
import { type HttpAnswer, HttpClient, type HttpPost, HttpTransportError } from './http-client.js';

export interface ProviderHttpOptions {
  /** Extra trusted CA certificates (PEM), if any. */
  ca: string | undefined;
  /** Per HTTP exchange, connecting included. */
  timeoutMs: number;
  /** Requests in flight at once, across callers; also the connection-pool size. */
  concurrency: number;
}

export type TransportFailure = Extract<PushResult, { ok: false }>;

/** The `retry` reason of an exchange that got no answer; `adapter_closed` once closed. */
export function transportReason(error: unknown): string {
  const reason = error instanceof HttpTransportError ? error.reason : 'network_error';
  return reason === 'closed' ? 'adapter_closed' : reason;
}

/** An exchange that got no answer, as a send result: `retry`, `adapter_closed` once closed. */
export function transportFailure(error: unknown): TransportFailure {
  return { ok: false, failure: 'retry', reason: transportReason(error) };
}

export interface ProviderHttp {
  /** At most `concurrency` requests at once; rejects with `HttpTransportError`. */
  post: HttpPost;
  /** `post`, with a fault that left no answer returned as a `retry` result. */
  exchange(
    url: string,
    headers: Record<string, string>,
    body: string,
  ): Promise<HttpAnswer | TransportFailure>;
  readonly closed: boolean;
  close(): Promise<void>;
}

/**
 * The HTTP side of a provider adapter: one keep-alive pool, created on first use, and a bound
 * on the requests in flight. Throws a `RangeError` for a bound or timeout that cannot work.
 */
export function createProviderHttp(options: ProviderHttpOptions): ProviderHttp {
  const { ca, timeoutMs, concurrency } = options;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError('concurrency must be an integer ≥ 1');
  }
  if (!(timeoutMs > 0)) throw new RangeError('requestTimeoutMs must be > 0');
  const limit = createLimiter(concurrency);
  let client: HttpClient | undefined;
  let closed = false;
  const post: HttpPost = (url, headers, body) => {
    if (closed) return Promise.reject(new HttpTransportError('closed', 'the adapter is closed'));
    client ??= new HttpClient({ ca, maxSockets: concurrency, timeoutMs });
    const open = client;
    return limit(() => open.post(url, headers, body));
  };
  return {
    post,
    exchange: (url, headers, body) => post(url, headers, body).catch(transportFailure),
    get closed() {
      return closed;
    },
    async close() {
      closed = true;
      await client?.close();
    },
  };
}
