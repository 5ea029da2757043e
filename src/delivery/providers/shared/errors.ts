import type { PushResult } from '../adapter.js';

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
