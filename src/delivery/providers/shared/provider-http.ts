import type { Clock } from '../../../clock.js';
import { createLimiter } from '../../../limiter.js';
import { type HttpAnswer, HttpClient, type HttpPost, HttpTransportError } from '../../../net/http-client.js';
import type { AccessTokenSource, AccessTokenStore } from './access-tokens.js';
import { AccessTokenError, type PushFailure } from './errors.js';

/** What every adapter over `createProviderHttp` takes besides its settings. */
export interface HttpAdapterOptions {
  clock: Clock;
  /** Per HTTP exchange (token or send), connecting included. Default 10 s. */
  requestTimeoutMs?: number;
  /** Requests in flight at once, across `send` calls; also the connection-pool size. */
  concurrency?: number;
  /** Where access tokens are cached; default: in this adapter's memory. */
  accessTokens?: AccessTokenStore;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/** The `retry` reason of an exchange that got no answer; `adapter_closed` once closed. */
export function transportReason(error: unknown): string {
  const reason = error instanceof HttpTransportError ? error.reason : 'network_error';
  return reason === 'closed' ? 'adapter_closed' : reason;
}

/** An exchange that got no answer, as a send result: `retry`, `adapter_closed` once closed. */
export function transportFailure(error: unknown): PushFailure {
  return { ok: false, failure: 'retry', reason: transportReason(error) };
}

/**
 * POSTs a token request. No answer → throws an `AccessTokenError` `retry` whose reason is
 * `<prefix><transport reason>` (e.g. `oauth_timeout`), or `adapter_closed` once closed.
 */
export async function postForToken(
  post: HttpPost,
  prefix: 'auth_' | 'oauth_',
  request: { url: string; headers: Record<string, string>; body: string },
): Promise<HttpAnswer> {
  try {
    return await post(request.url, request.headers, request.body);
  } catch (error) {
    const reason = transportReason(error);
    const detail = error instanceof Error ? error.message : String(error);
    throw new AccessTokenError(
      { ok: false, failure: 'retry', reason: reason === 'adapter_closed' ? reason : `${prefix}${reason}` },
      `the token endpoint did not answer: ${detail}`,
      { cause: error },
    );
  }
}

export interface ProviderHttp {
  /** At most `concurrency` requests at once; rejects with `HttpTransportError`. */
  post: HttpPost;
  /** `post`, with a fault that left no answer returned as a `retry` result. */
  exchange(url: string, headers: Record<string, string>, body: string): Promise<HttpAnswer | PushFailure>;
  readonly closed: boolean;
  close(): Promise<void>;
}

/**
 * The HTTP side of a provider adapter: one keep-alive pool, created on first use, and a bound
 * on the requests in flight (served first come, first served). After `close` nothing is sent
 * (`adapter_closed`). Throws a `RangeError` for a bound or timeout that cannot work.
 */
export function createProviderHttp(
  ca: string | undefined,
  options: Pick<HttpAdapterOptions, 'requestTimeoutMs' | 'concurrency'>,
  defaultConcurrency: number,
): ProviderHttp {
  const timeoutMs = options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  const concurrency = options.concurrency ?? defaultConcurrency;
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

/** A request that carries an access token. */
export interface TokenRequest {
  /** The request as it goes out with this token. */
  withToken(token: string): { url: string; headers: Record<string, string>; body: string };
  /** Whether the answer refuses the token itself (expired early, revoked), not the message. */
  refusesToken(answer: HttpAnswer): boolean;
}

function tokenFailure(error: unknown): PushFailure {
  return error instanceof AccessTokenError
    ? error.result
    : { ok: false, failure: 'retry', reason: 'auth_error' };
}

/**
 * Sends a request under an access token. No token to be had → the token's failure. The token
 * refused → one new token (fetched once for every request that saw it refused) and the request
 * once more. Returns the answer, whatever its status, or the failure of an exchange that got
 * none (`adapter_closed` once closed).
 */
export async function sendWithToken(
  http: ProviderHttp,
  tokens: AccessTokenSource,
  request: TokenRequest,
): Promise<HttpAnswer | PushFailure> {
  if (http.closed) return { ok: false, failure: 'retry', reason: 'adapter_closed' };
  const exchange = (token: string) => {
    const { url, headers, body } = request.withToken(token);
    return http.exchange(url, headers, body);
  };
  let token: string;
  try {
    token = await tokens.get();
  } catch (error) {
    return tokenFailure(error);
  }
  const answer = await exchange(token);
  if (!('status' in answer) || !request.refusesToken(answer)) return answer;
  try {
    token = await tokens.get({ rejected: token });
  } catch (error) {
    return tokenFailure(error);
  }
  return exchange(token);
}
