import type { FailureClass, PushResult } from '../adapter.js';
import { parseRetryAfter } from '../retry-after.js';

export type PushFailure = Extract<PushResult, { ok: false }>;

/** Reasons whose class does not follow from the status alone (reference/providers.md §1.4). */
const reasonClass: Readonly<Record<string, FailureClass>> = {
  // The token will never work again (on this host / for this topic).
  Unregistered: 'dead',
  ExpiredToken: 'dead',
  BadDeviceToken: 'dead',
  DeviceTokenNotForTopic: 'dead',
  // Our credentials or the app's configuration.
  InvalidProviderToken: 'creds',
  MissingProviderToken: 'creds',
  BadCertificate: 'creds',
  BadCertificateEnvironment: 'creds',
  Forbidden: 'creds',
  TopicDisallowed: 'creds',
  // Transient. ExpiredProviderToken reaches here only after the adapter's one renewal.
  ExpiredProviderToken: 'retry',
  TooManyRequests: 'retry',
  TooManyProviderTokenUpdates: 'retry',
  IdleTimeout: 'retry',
  InternalServerError: 'retry',
  ServiceUnavailable: 'retry',
  Shutdown: 'retry',
};

export { parseRetryAfter };

/**
 * The failure class of an APNs error answer. `reason` is APNs's `reason` string (from the
 * JSON body); without one, the result's reason is `http_<status>`. 429 and 5xx carry
 * `retryAfterMs` when the answer had a `Retry-After` header.
 *
 * Unknown reasons fall back on the status: 403 → creds (every documented 403 is about our
 * credentials), 408/429/5xx → retry, other 4xx → bad_request.
 */
export function classifyApnsError(
  status: number,
  reason: string | undefined,
  retryAfter?: { header: string | undefined; now: number },
): PushFailure {
  const named = reason !== undefined && reason !== '' ? reason : undefined;
  const byReason = named !== undefined && Object.hasOwn(reasonClass, named) ? reasonClass[named] : undefined;
  const failure: FailureClass =
    byReason ??
    (status === 403
      ? 'creds'
      : status === 408 || status === 429 || status >= 500 || status < 400
        ? 'retry'
        : 'bad_request');
  const result: PushFailure = { ok: false, failure, reason: named ?? `http_${status}` };
  if (failure === 'retry' && retryAfter !== undefined) {
    const retryAfterMs = parseRetryAfter(retryAfter.header, retryAfter.now);
    if (retryAfterMs !== undefined) result.retryAfterMs = retryAfterMs;
  }
  return result;
}

/** The `reason` of an APNs error body (`{"reason": "...", "timestamp": ...}`), if readable. */
export function apnsErrorReason(body: string): string | undefined {
  if (body === '') return undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    if (
      typeof parsed === 'object' &&
      parsed !== null &&
      'reason' in parsed &&
      typeof parsed.reason === 'string'
    ) {
      return parsed.reason;
    }
  } catch {
    // not JSON: a proxy's page, say
  }
  return undefined;
}
