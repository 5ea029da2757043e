import type { Clock } from '../../../clock.js';
import { createLimiter } from '../../../limiter.js';
import type { ProviderRequest, PushAdapter, PushMessage, PushResult } from '../adapter.js';
import type { AccessTokenStore } from '../shared/access-tokens.js';
import { type HttpAnswer, HttpClient, type HttpPost, HttpTransportError } from '../shared/http-client.js';
import { createFcmAccessTokenSource, FcmAuthError } from './fcm.auth.js';
import { type FcmCredentials, FcmCredentialsError, validateFcmCredentials } from './fcm.config.js';
import { classifyFcmError, type PushFailure, parseFcmError } from './fcm.errors.js';
import { buildFcmRequest } from './fcm.request.js';

export interface FcmAdapterOptions {
  clock: Clock;
  /** Per HTTP exchange (token or send), connecting included. Default 10 s. */
  requestTimeoutMs?: number;
  /** Sends in flight at once, across `send` calls; also the connection-pool size. Default 64. */
  concurrency?: number;
  /** Where access tokens are cached; default: in this adapter's memory. */
  accessTokens?: AccessTokenStore;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_CONCURRENCY = 64;

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function authFailure(error: unknown): PushFailure {
  if (error instanceof FcmAuthError) {
    const failure: PushFailure = { ok: false, failure: error.failure, reason: error.reason };
    if (error.retryAfterMs !== undefined) failure.retryAfterMs = error.retryAfterMs;
    return failure;
  }
  return { ok: false, failure: 'retry', reason: 'oauth_error' };
}

function messageName(body: string): string | undefined {
  try {
    const name = (JSON.parse(body) as { name?: unknown }).name;
    return typeof name === 'string' ? name : undefined;
  } catch {
    return undefined;
  }
}

/**
 * FCM HTTP v1 (reference/providers.md §2). One request per message (v1 has no batch), at most
 * `concurrency` at once, over one lazily created keep-alive pool. The OAuth2 access token is
 * shared by all sends and replaced 5 minutes before it expires; a 401 from the send endpoint
 * (not FCM's THIRD_PARTY_AUTH_ERROR) replaces it once and sends that message again. `send`
 * never throws: network faults and timeouts are `retry` results.
 *
 * Throws `FcmCredentialsError` when the credentials do not validate.
 */
export function createFcmAdapter(credentials: FcmCredentials, options: FcmAdapterOptions): PushAdapter {
  const check = validateFcmCredentials(credentials);
  if (!check.ok) throw new FcmCredentialsError(check.error);
  const settings = check.settings;
  const { clock } = options;
  const timeoutMs = options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError('concurrency must be an integer ≥ 1');
  }
  if (!(timeoutMs > 0)) throw new RangeError('requestTimeoutMs must be > 0');

  let client: HttpClient | undefined;
  let closed = false;
  const post: HttpPost = (url, headers, body) => {
    client ??= new HttpClient({ ca: settings.ca, maxSockets: concurrency, timeoutMs });
    return client.post(url, headers, body);
  };
  const accessTokens = createFcmAccessTokenSource({
    identity: settings,
    post,
    clock,
    store: options.accessTokens,
  });
  const limit = createLimiter(concurrency);

  const exchange = async (
    request: ProviderRequest,
    accessToken: string,
  ): Promise<HttpAnswer | PushFailure> => {
    try {
      return await post(
        request.url,
        { ...request.headers, authorization: `Bearer ${accessToken}` },
        request.body,
      );
    } catch (error) {
      if (error instanceof HttpTransportError) {
        const reason = error.reason === 'closed' ? 'adapter_closed' : error.reason;
        return { ok: false, failure: 'retry', reason };
      }
      return { ok: false, failure: 'retry', reason: 'network_error' };
    }
  };

  const sendOne = async (message: PushMessage): Promise<PushResult> => {
    if (closed) return { ok: false, failure: 'retry', reason: 'adapter_closed' };
    const request = buildFcmRequest(message, settings, clock.now());
    let accessToken: string;
    try {
      accessToken = await accessTokens.get();
    } catch (error) {
      return authFailure(error);
    }
    let answer = await exchange(request, accessToken);
    // Our access token was refused (revoked, or expired early): a new one, and this message again.
    if ('status' in answer && answer.status === 401 && parseFcmError(answer.body).errorCode === undefined) {
      try {
        accessToken = await accessTokens.get({ rejected: accessToken });
      } catch (error) {
        return authFailure(error);
      }
      answer = await exchange(request, accessToken);
    }
    if (!('status' in answer)) return answer;
    if (answer.status >= 200 && answer.status < 300) {
      return { ok: true, providerMessageId: messageName(answer.body) };
    }
    return classifyFcmError(
      { status: answer.status, body: answer.body, retryAfter: header(answer.headers['retry-after']) },
      clock.now(),
    );
  };

  const guarded = async (message: PushMessage): Promise<PushResult> => {
    try {
      return await sendOne(message);
    } catch {
      return { ok: false, failure: 'retry', reason: 'internal_error' };
    }
  };

  return {
    provider: 'fcm',
    send(messages: readonly PushMessage[]): Promise<PushResult[]> {
      return Promise.all(messages.map((message) => limit(() => guarded(message))));
    },
    async close(): Promise<void> {
      closed = true;
      await client?.close();
    },
  } satisfies PushAdapter;
}
