import type { FailureClass, PushResult } from '../adapter.js';
import { parseRetryAfter } from '../retry-after.js';
import { msUntilChinaMidnight } from '../shared/china-time.js';
import type { PushFailure } from '../shared/errors.js';

/** What `sendMessage` answered. */
export interface HonorAnswer {
  status: number;
  /** The raw body; need not be JSON (proxies answer HTML). */
  body: string;
  retryAfter?: string | undefined;
}

/** The parts of Honor's `{code, message, data: {sendResult, requestId, failTokens, expireTokens}}`. */
export interface HonorReply {
  code: number | undefined;
  message: string | undefined;
  sendResult: boolean | undefined;
  requestId: string | undefined;
  /** Tokens that no longer belong to an installed app: dead. */
  expireTokens: string[];
  /** Tokens the message could not be sent to this time. */
  failTokens: string[];
}

/** Success: 200 in Honor's answers; 80000000 (the Huawei-family value) and 0 read the same. */
export const HONOR_SUCCESS_CODES: ReadonlySet<number> = new Set([200, 0, 80000000]);
/** Some tokens failed: they are listed in `data`. */
export const HONOR_PARTIAL_CODE = 80100000;
/** Our access token is wrong (another app's, malformed) or expired: a new one, then once more. */
export const HONOR_TOKEN_REFUSED_CODES: ReadonlySet<number> = new Set([80200001, 80200003]);

/**
 * Honor's result codes (reference/providers.md §5.3: the Huawei-family table, §3.4).
 * A code missing here is classified by the HTTP status, or as a daily quota by its message.
 */
export const HONOR_CODES: Readonly<Record<number, { failure: FailureClass; meaning: string }>> = {
  80100001: { failure: 'bad_request', meaning: 'some request parameters are wrong' },
  80100002: { failure: 'bad_request', meaning: 'a synchronous message takes exactly one token' },
  80100003: { failure: 'bad_request', meaning: 'the message structure is wrong' },
  80100004: { failure: 'bad_request', meaning: 'the TTL is earlier than now' },
  80100013: { failure: 'bad_request', meaning: 'collapse key out of range' },
  80100016: { failure: 'bad_request', meaning: 'the message contains sensitive content' },
  80100017: { failure: 'retry', meaning: 'too many tasks at once' },
  80100018: { failure: 'bad_request', meaning: 'review signature mismatch' },
  80200001: { failure: 'creds', meaning: 'OAuth authentication error (after a new access token)' },
  80200003: { failure: 'retry', meaning: 'OAuth access token expired (after a new access token)' },
  80300002: { failure: 'creds', meaning: 'the app may not send messages' },
  80300007: { failure: 'dead', meaning: 'all tokens are invalid' },
  80300008: { failure: 'bad_request', meaning: 'the message body is too large' },
  80300010: { failure: 'bad_request', meaning: 'the number of tokens is out of range' },
  80300011: { failure: 'creds', meaning: 'no right to send this importance or category' },
  80300013: { failure: 'creds', meaning: 'receipt configuration is wrong' },
  80600003: { failure: 'creds', meaning: 'the OAuth server refused the credentials' },
  81000001: { failure: 'retry', meaning: 'internal error' },
};

/** A daily quota: Honor's code for it is not in our sources, its wording is recognisable. */
const dailyQuota = /quota|daily limit|exceed(s|ed)? the (daily )?limit|超过.*(上限|限额|额度)|当日|每日/i;

const record = (value: unknown): Record<string, unknown> | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;

const tokens = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((entry): entry is string => typeof entry === 'string') : [];

/** Reads Honor's answer body; anything unreadable gives undefined fields and empty lists. */
export function parseHonorReply(body: string): HonorReply {
  let root: Record<string, unknown> | undefined;
  try {
    root = record(JSON.parse(body));
  } catch {
    root = undefined;
  }
  const data = record(root?.data);
  const code = Number(root?.code);
  return {
    code: root?.code !== undefined && root.code !== '' && Number.isInteger(code) ? code : undefined,
    message: typeof root?.message === 'string' ? root.message : undefined,
    sendResult: typeof data?.sendResult === 'boolean' ? data.sendResult : undefined,
    requestId:
      typeof data?.requestId === 'string' || typeof data?.requestId === 'number'
        ? String(data.requestId)
        : undefined,
    expireTokens: tokens(data?.expireTokens),
    failTokens: tokens(data?.failTokens),
  };
}

/** An answer nothing in the body explains: by HTTP status. */
function classOfStatus(status: number): FailureClass {
  if (status >= 500 || status === 429 || status === 408) return 'retry';
  if (status === 401 || status === 403) return 'creds';
  return 'bad_request';
}

/**
 * Classifies an answer that failed as a whole (not success, not a partial success):
 * - a code of `HONOR_CODES`: its class (80300007 → dead; 80200001, 80300002, 80300011,
 *   80600003 → creds; 80100017, 81000001, 80200003 → retry; payload errors → bad_request);
 * - a daily-quota answer → retry at the next midnight in China (UTC+8);
 * - else the HTTP status: 5xx, 429, 408 → retry (honouring `Retry-After`), 401/403 → creds,
 *   other → bad_request. A 2xx with an unknown code is bad_request: not retried unchanged.
 * `reason` is the code (e.g. `80300007`), else `HTTP_<status>`.
 */
export function classifyHonorFailure(answer: HonorAnswer, reply: HonorReply, now: number): PushFailure {
  const known = reply.code === undefined ? undefined : HONOR_CODES[reply.code];
  const reason = reply.code === undefined ? `HTTP_${answer.status}` : String(reply.code);
  if (known !== undefined) return withRetryAfter({ ok: false, failure: known.failure, reason }, answer, now);
  if (reply.message !== undefined && dailyQuota.test(reply.message)) {
    return { ok: false, failure: 'retry', reason, retryAfterMs: msUntilChinaMidnight(now) };
  }
  const failure = answer.status >= 200 && answer.status < 300 ? 'bad_request' : classOfStatus(answer.status);
  return withRetryAfter({ ok: false, failure, reason }, answer, now);
}

function withRetryAfter(result: PushFailure, answer: HonorAnswer, now: number): PushFailure {
  if (result.failure !== 'retry') return result;
  const retryAfterMs = parseRetryAfter(answer.retryAfter, now);
  return retryAfterMs === undefined ? result : { ...result, retryAfterMs };
}

/**
 * One result per token of a successful (or partly successful) answer, in the order given:
 * `expireTokens` → dead (`expire_token`), `failTokens` → retry (`fail_token`), the others
 * sent with Honor's `requestId`. `sendResult: false` with no token named fails them all (retry).
 */
export function resultsPerToken(sent: readonly string[], reply: HonorReply): PushResult[] {
  const expired = new Set(reply.expireTokens);
  const failed = new Set(reply.failTokens);
  const nothingNamed = expired.size === 0 && failed.size === 0;
  return sent.map((token): PushResult => {
    if (expired.has(token)) return { ok: false, failure: 'dead', reason: 'expire_token' };
    if (failed.has(token)) return { ok: false, failure: 'retry', reason: 'fail_token' };
    if (reply.sendResult === false && nothingNamed)
      return { ok: false, failure: 'retry', reason: 'send_failed' };
    return { ok: true, providerMessageId: reply.requestId };
  });
}
