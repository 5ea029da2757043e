import type { HttpAnswer } from '../../../net/http-client.js';
import type { FailureClass } from '../adapter.js';
import { msUntilChinaMidnight } from '../shared/china-time.js';
import { classifyHttpStatus, type PushFailure } from '../shared/errors.js';

/** vivo answers HTTP 200 with `{result, desc, …}`; `result` 0 is success. */
export interface VivoAnswer {
  result: number | undefined;
  desc: string | undefined;
  taskId: string | undefined;
  authToken: string | undefined;
  /** `message/send`: the one phone vivo refused, if it did. */
  invalidUser: VivoInvalidUser | undefined;
  /** `message/pushToList`: the phones vivo refused. */
  invalidUsers: VivoInvalidUser[];
}

export interface VivoInvalidUser {
  userid: string;
  /** 1 unknown regId, 2 uninstalled / notifications off / data cleared, 4 not a test user. */
  status: number;
}

/** Permission check failed: our authToken (expired, or not this app's), or the app's rights. */
export const VIVO_AUTH_FAILED = 10000;
/** Daily total of messages used up. */
export const VIVO_DAILY_QUOTA = 10070;
/** Too many requests per second. */
export const VIVO_TOO_FREQUENT = 10072;
/** Daily number of API calls used up. */
export const VIVO_DAILY_CALLS = 10252;
/** The regId is not valid (for this app). */
export const VIVO_INVALID_REGID = 10302;
/** Unknown `category`. */
export const VIVO_BAD_CATEGORY = 10096;
/** `category` does not agree with `classification`. */
export const VIVO_CATEGORY_MISMATCH = 10097;

/** `invalidUser.status` values that mean the regId will never work again. */
export const VIVO_DEAD_STATUSES: readonly number[] = [1, 2];

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function text(value: unknown): string | undefined {
  if (typeof value === 'string' && value !== '') return value;
  return typeof value === 'number' ? String(value) : undefined;
}

function invalidUser(value: unknown): VivoInvalidUser | undefined {
  const entry = record(value);
  const userid = text(entry?.userid);
  const status = Number(entry?.status);
  return userid === undefined || !Number.isInteger(status) ? undefined : { userid, status };
}

/** Reads a vivo answer body; anything unreadable gives `result: undefined`. */
export function parseVivoAnswer(body: string): VivoAnswer {
  let parsed: Record<string, unknown> | undefined;
  try {
    parsed = record(JSON.parse(body));
  } catch {
    parsed = undefined;
  }
  const result = Number(parsed?.result);
  const users = Array.isArray(parsed?.invalidUsers) ? parsed.invalidUsers : [];
  return {
    result: parsed === undefined || !Number.isInteger(result) ? undefined : result,
    desc: text(parsed?.desc)?.slice(0, 200),
    taskId: text(parsed?.taskId),
    authToken: text(parsed?.authToken),
    invalidUser: invalidUser(parsed?.invalidUser),
    invalidUsers: users.map(invalidUser).filter((user) => user !== undefined),
  };
}

/** The class of a non-zero `result` (reference/providers.md §5.2). */
export function vivoResultClass(result: number): FailureClass {
  switch (result) {
    case VIVO_INVALID_REGID:
      return 'dead';
    case VIVO_DAILY_QUOTA:
    case VIVO_DAILY_CALLS:
    case VIVO_TOO_FREQUENT:
      return 'retry';
    // Reached only when a fresh authToken was refused too: the app's rights.
    case VIVO_AUTH_FAILED:
      return 'creds';
    default:
      // 10096 / 10097 (category) and every other parameter check: our request.
      return 'bad_request';
  }
}

/** An `invalidUser` entry as a result: dead for status 1 / 2, else refused as it is. */
export function invalidUserFailure(user: VivoInvalidUser): PushFailure {
  return VIVO_DEAD_STATUSES.includes(user.status)
    ? { ok: false, failure: 'dead', reason: `invalid_user_${user.status}` }
    : { ok: false, failure: 'bad_request', reason: `invalid_user_${user.status}` };
}

/**
 * Classifies a vivo answer that is not a success: by `result` when the body has one (daily
 * quotas retried at the next midnight in China), otherwise by HTTP status (5xx, 429, 408 →
 * retry honouring `Retry-After`; 401 / 403 → creds; other → bad_request; a 2xx that is not
 * vivo's JSON → retry).
 * `reason` is `vivo_<result>` or `HTTP_<status>`.
 */
export function classifyVivoAnswer(
  answer: { status: number; body: string; retryAfter?: string | undefined },
  now: number,
): PushFailure {
  const parsed = parseVivoAnswer(answer.body);
  if (answer.status < 500 && parsed.result !== undefined && parsed.result !== 0) {
    const failure: PushFailure = {
      ok: false,
      failure: vivoResultClass(parsed.result),
      reason: `vivo_${parsed.result}`,
    };
    if (parsed.result === VIVO_DAILY_QUOTA || parsed.result === VIVO_DAILY_CALLS) {
      failure.retryAfterMs = msUntilChinaMidnight(now);
    }
    return failure;
  }
  if (answer.status >= 200 && answer.status < 300)
    return { ok: false, failure: 'retry', reason: 'bad_response' };
  return classifyHttpStatus(answer.status, answer.retryAfter, now);
}

/** `classifyVivoAnswer` for an answer as the HTTP client gives it. */
export function classifyVivoHttpAnswer(answer: HttpAnswer, now: number): PushFailure {
  return classifyVivoAnswer(
    { status: answer.status, body: answer.body, retryAfter: answer.headers['retry-after'] },
    now,
  );
}
