import type { FailureClass } from '../adapter.js';
import { msUntilChinaMidnight } from '../shared/china-time.js';
import type { PushFailure } from '../shared/errors.js';

/** OPPO's return codes and how Bellhop handles each (reference/providers.md §5.1, OPPO's table). */
export const OPPO_CODES: Readonly<Record<number, { meaning: string; failure: FailureClass }>> = {
  [-2]: { meaning: 'Service in Flow Control', failure: 'retry' },
  [-1]: { meaning: 'Service Currently Unavailable', failure: 'retry' },
  11: { meaning: 'Invalid AuthToken', failure: 'retry' },
  12: { meaning: 'Http Action Not Allowed', failure: 'bad_request' },
  13: { meaning: 'App Call Limited', failure: 'retry' },
  14: { meaning: 'Invalid App Key', failure: 'creds' },
  15: { meaning: 'Missing App Key', failure: 'creds' },
  16: { meaning: 'Invalid Signature', failure: 'creds' },
  17: { meaning: 'Missing Signature', failure: 'creds' },
  18: { meaning: 'Missing Timestamp', failure: 'creds' },
  19: { meaning: 'Invalid Timestamp', failure: 'creds' },
  20: { meaning: 'Invalid Method', failure: 'bad_request' },
  21: { meaning: 'Missing Method', failure: 'bad_request' },
  22: { meaning: 'Missing Version', failure: 'bad_request' },
  23: { meaning: 'Invalid Version', failure: 'bad_request' },
  24: { meaning: 'Unsupported Version', failure: 'bad_request' },
  25: { meaning: 'Invalid Encoding', failure: 'bad_request' },
  26: { meaning: 'IP Black List', failure: 'creds' },
  27: { meaning: 'Access Denied', failure: 'creds' },
  28: { meaning: 'App Disabled', failure: 'creds' },
  29: { meaning: 'Missing Auth Token', failure: 'retry' },
  30: { meaning: 'Api Permission Denied', failure: 'creds' },
  31: { meaning: 'Data Not Exist', failure: 'bad_request' },
  32: { meaning: 'Data Duplicate', failure: 'bad_request' },
  33: { meaning: 'The number of messages exceeds the daily limit', failure: 'retry' },
  34: { meaning: 'The number of upload pictures exceeds the daily limit', failure: 'retry' },
  40: { meaning: 'Missing Required Arguments', failure: 'bad_request' },
  41: { meaning: 'Invalid Arguments', failure: 'bad_request' },
  51: { meaning: 'Invalid Picture', failure: 'bad_request' },
  55: { meaning: 'App Call Frequency Limit', failure: 'retry' },
  59: { meaning: 'UseSecondaryAction permission denied', failure: 'creds' },
  // The category, private channel or notify_level in the app's settings is not approved.
  67: { meaning: 'Category error/Private classify channel notify_level invalid', failure: 'creds' },
  10000: { meaning: 'Invalid Registration_id', failure: 'dead' },
};

/** `auth_token` refused: fetch a new one and send again, once. */
export const OPPO_AUTH_TOKEN_CODES: ReadonlySet<number> = new Set([11, 29]);
/** Daily quotas: they reset at midnight, China time. */
export const OPPO_DAILY_QUOTA_CODES: ReadonlySet<number> = new Set([33, 34]);
export const OPPO_INVALID_REGISTRATION_ID = 10000;

/**
 * The failure for an OPPO return code (a response's `code`, or an entry's `errorCode` in a
 * `unicast_batch` answer). `reason` is `OPPO_<code>`. Daily quotas carry `retryAfterMs` until
 * the next midnight in China. Codes OPPO does not list: negative → retry (OPPO's server side),
 * others → bad_request.
 */
export function classifyOppoCode(code: number, now: number): PushFailure {
  const known = OPPO_CODES[code];
  const failure = known?.failure ?? (code < 0 ? 'retry' : 'bad_request');
  const result: PushFailure = { ok: false, failure, reason: `OPPO_${code}` };
  if (OPPO_DAILY_QUOTA_CODES.has(code)) result.retryAfterMs = msUntilChinaMidnight(now);
  return result;
}

/** One entry of a `unicast_batch` answer's `data`. */
export interface OppoBatchEntry {
  messageId: string | undefined;
  registrationId: string | undefined;
  /** Absent or 0: sent. */
  errorCode: number | undefined;
}

/** OPPO's answer body: `{code, message, data}`; undefined when it is not that. */
export interface OppoAnswer {
  code: number;
  message: string | undefined;
  /** `data.messageId` of `unicast`. */
  messageId: string | undefined;
  /** `data` of `unicast_batch`. */
  entries: OppoBatchEntry[] | undefined;
  /** `data.auth_token` / `data.create_time` of `auth`. */
  authToken: string | undefined;
}

const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);
const record = (value: unknown) =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;

/** Reads OPPO's JSON answer defensively (numbers may come as strings). */
export function parseOppoAnswer(body: string): OppoAnswer | undefined {
  let parsed: Record<string, unknown> | undefined;
  try {
    parsed = record(JSON.parse(body));
  } catch {
    return undefined;
  }
  const code = Number(parsed?.code);
  if (parsed === undefined || parsed.code === null || parsed.code === '' || !Number.isInteger(code)) {
    return undefined;
  }
  const data = record(parsed.data);
  const entries = Array.isArray(parsed.data)
    ? parsed.data.map((entry): OppoBatchEntry => {
        const item = record(entry) ?? {};
        const errorCode = Number(item.errorCode);
        return {
          messageId: text(item.messageId),
          registrationId: text(item.registrationId),
          errorCode: item.errorCode === undefined || !Number.isInteger(errorCode) ? undefined : errorCode,
        };
      })
    : undefined;
  return {
    code,
    message: text(parsed.message),
    messageId: text(data?.messageId),
    entries,
    authToken: text(data?.auth_token),
  };
}
