import type { PushResult } from '../adapter.js';
import { parseRetryAfter } from '../retry-after.js';

/** A send that did not go through, as its result says. */
export type PushFailure = Extract<PushResult, { ok: false }>;

/** What a provider adapter throws; the subclasses say why. */
export class ProviderError extends Error {
  override name = 'ProviderError';
}

/** An app's settings a provider cannot use: the message is the one problem, never a secret. */
export class ProviderSettingsError extends ProviderError {
  override name = 'ProviderSettingsError';
  constructor(
    readonly provider: string,
    problem: string,
  ) {
    super(problem);
  }
}

/**
 * Getting an access token failed: `result` is how every send waiting for it fails (`creds`
 * for refused credentials, `retry` when the token endpoint is unreachable or busy).
 */
export class AccessTokenError extends ProviderError {
  override name = 'AccessTokenError';
  constructor(
    readonly result: PushFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The result of a `send` that threw: a fault of ours, never a provider's answer, so tried again. */
export const INTERNAL_ERROR: PushFailure = { ok: false, failure: 'retry', reason: 'internal_error' };

/** A failure result; `retryAfterMs` only when there is one. */
export function pushFailure(
  failure: PushFailure['failure'],
  reason: string,
  retryAfterMs?: number | undefined,
): PushFailure {
  return retryAfterMs === undefined
    ? { ok: false, failure, reason }
    : { ok: false, failure, reason, retryAfterMs };
}

/**
 * An HTTP answer nothing in its body explains, by its status: 5xx, 429 and 408 → retry,
 * honouring `Retry-After`; 401 / 403 → creds; any other → bad_request. `reason` is `HTTP_<status>`.
 */
export function classifyHttpStatus(status: number, retryAfter: string | undefined, now: number): PushFailure {
  const reason = `HTTP_${status}`;
  if (status >= 500 || status === 429 || status === 408) {
    return pushFailure('retry', reason, parseRetryAfter(retryAfter, now));
  }
  return pushFailure(status === 401 || status === 403 ? 'creds' : 'bad_request', reason);
}
