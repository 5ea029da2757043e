import type { FailureClass } from '../adapter.js';
import { parseRetryAfter } from '../retry-after.js';
import type { PushFailure } from '../shared/errors.js';

/** What FCM (or whatever stands in front of it) answered. */
export interface FcmAnswer {
  status: number;
  /** The raw body; need not be JSON (proxies answer HTML). */
  body: string;
  /** The `Retry-After` header, if any. */
  retryAfter?: string | undefined;
}

/** The parts of a Google error body (`{"error": {code, message, status, details}}`) that matter. */
export interface FcmErrorInfo {
  /** `details[].errorCode` of the `google.firebase.fcm.v1.FcmError` detail. */
  errorCode: string | undefined;
  /** `error.status`, the canonical gRPC code name (`NOT_FOUND`, `UNAUTHENTICATED`, …). */
  status: string | undefined;
  message: string | undefined;
  /** A `google.rpc.BadRequest` field violation (or the message) names `message.token`. */
  tokenInvalid: boolean;
}

const FCM_ERROR_TYPE = 'type.googleapis.com/google.firebase.fcm.v1.FcmError';
const BAD_REQUEST_TYPE = 'type.googleapis.com/google.rpc.BadRequest';

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Reads a Google error body; anything unreadable gives all-undefined. */
export function parseFcmError(body: string): FcmErrorInfo {
  const info: FcmErrorInfo = {
    errorCode: undefined,
    status: undefined,
    message: undefined,
    tokenInvalid: false,
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return info;
  }
  const error = record(record(parsed)?.error);
  if (error === undefined) return info;
  info.status = text(error.status);
  info.message = text(error.message);
  const details = Array.isArray(error.details) ? error.details : [];
  for (const entry of details) {
    const detail = record(entry);
    if (detail === undefined) continue;
    const type = detail['@type'];
    // Some proxies and older answers drop `@type`; an `errorCode` is FCM's either way.
    if ((type === FCM_ERROR_TYPE || type === undefined) && info.errorCode === undefined) {
      info.errorCode = text(detail.errorCode);
    }
    if (type === BAD_REQUEST_TYPE && Array.isArray(detail.fieldViolations)) {
      for (const violation of detail.fieldViolations) {
        if (record(violation)?.field === 'message.token') info.tokenInvalid = true;
      }
    }
  }
  if (
    info.message !== undefined &&
    /registration token is not a valid FCM registration token/i.test(info.message)
  ) {
    info.tokenInvalid = true;
  }
  return info;
}

/** The class of one FCM code, or undefined when it says nothing (`UNSPECIFIED_ERROR`, unknown). */
function classOf(code: string, info: FcmErrorInfo): FailureClass | undefined {
  switch (code) {
    case 'UNREGISTERED':
    case 'SENDER_ID_MISMATCH':
      return 'dead';
    case 'INVALID_ARGUMENT':
      return info.tokenInvalid ? 'dead' : 'bad_request';
    case 'QUOTA_EXCEEDED':
    case 'RESOURCE_EXHAUSTED':
    case 'UNAVAILABLE':
    case 'INTERNAL':
    case 'DEADLINE_EXCEEDED':
      return 'retry';
    case 'THIRD_PARTY_AUTH_ERROR':
    case 'APNS_AUTH_ERROR':
    case 'UNAUTHENTICATED':
    case 'PERMISSION_DENIED':
      return 'creds';
    default:
      return undefined;
  }
}

/** An answer nothing in the body explains: by HTTP status. */
function classOfStatus(status: number): FailureClass {
  if (status >= 500 || status === 429 || status === 408) return 'retry';
  if (status === 401 || status === 403) return 'creds';
  return 'bad_request';
}

/**
 * Classifies a failed FCM send (reference/providers.md §2.4): `details[].errorCode` first,
 * then `error.status`, then the HTTP status.
 * - UNREGISTERED, SENDER_ID_MISMATCH → dead; INVALID_ARGUMENT → bad_request, or dead when
 *   the violation is on `message.token`;
 * - QUOTA_EXCEEDED / RESOURCE_EXHAUSTED, UNAVAILABLE, INTERNAL, other 5xx, 429 → retry with
 *   `Retry-After` honoured;
 * - THIRD_PARTY_AUTH_ERROR, and 401/403 without an FCM code (UNAUTHENTICATED,
 *   PERMISSION_DENIED: our OAuth token or IAM) → creds;
 * - anything else 4xx (including a bare NOT_FOUND, e.g. a wrong project) → bad_request:
 *   tokens are only ever declared dead on an explicit FCM code.
 * `reason` is the FCM code (or status) that decided, else `HTTP_<status>`.
 */
export function classifyFcmError(answer: FcmAnswer, now: number): PushFailure {
  const info = parseFcmError(answer.body);
  let failure: FailureClass | undefined;
  let reason: string | undefined;
  for (const code of [info.errorCode, info.status]) {
    if (code === undefined) continue;
    failure = classOf(code, info);
    if (failure !== undefined) {
      reason = code;
      break;
    }
  }
  if (failure === undefined) {
    failure = classOfStatus(answer.status);
    reason = info.errorCode ?? info.status ?? `HTTP_${answer.status}`;
  }
  const result: PushFailure = { ok: false, failure, reason: reason ?? `HTTP_${answer.status}` };
  if (failure === 'retry') {
    const retryAfterMs = parseRetryAfter(answer.retryAfter, now);
    if (retryAfterMs !== undefined) result.retryAfterMs = retryAfterMs;
  }
  return result;
}
