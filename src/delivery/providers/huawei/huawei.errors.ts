import type { FailureClass } from '../adapter.js';
import { parseRetryAfter } from '../retry-after.js';
import type { PushFailure } from '../shared/errors.js';

export const HUAWEI_SUCCESS = '80000000';
export const HUAWEI_PARTIAL_SUCCESS = '80100000';
export const HUAWEI_ALL_TOKENS_INVALID = '80300007';
/** Our access token was refused (missing, wrong, or issued for another app). */
export const HUAWEI_OAUTH_ERROR = '80200001';
export const HUAWEI_OAUTH_EXPIRED = '80200003';

/**
 * Push Kit's result codes and what each means for the tokens of the request
 * (reference/providers.md §3.4). 80000000 and 80100000 are (partial) successes, read apart.
 */
export const HUAWEI_CODE_CLASSES: Readonly<Record<string, FailureClass>> = {
  '80100001': 'bad_request', // some request parameters are wrong
  '80100002': 'bad_request', // a sync message needs exactly one token
  '80100003': 'bad_request', // bad message structure
  '80100004': 'bad_request', // the TTL is earlier than now
  '80100013': 'bad_request', // bad collapse_key
  '80100016': 'bad_request', // sensitive content
  '80100017': 'retry', // more than 100 topic tasks at once
  '80100018': 'bad_request', // third-party review signature mismatch
  [HUAWEI_OAUTH_ERROR]: 'creds', // after one new token: the app id and the credentials disagree
  [HUAWEI_OAUTH_EXPIRED]: 'retry', // after one new token: a clock problem, not the credentials
  '80300002': 'creds', // the app may not send push messages
  [HUAWEI_ALL_TOKENS_INVALID]: 'dead', // every token is invalid (malformed, or another app's)
  '80300008': 'bad_request', // the body is over 4096 bytes
  '80300010': 'bad_request', // token count out of 1…1000
  '80300011': 'creds', // no permission for high-priority messages (urgency HIGH / importance)
  '80300013': 'bad_request', // bad receipt URL or certificate
  '80600003': 'creds', // Huawei's OAuth server refused the client id / secret
  '81000001': 'retry', // internal error
};

/** A Push Kit answer body: `{"code", "msg", "requestId"}`. */
export interface HuaweiReply {
  code: string | undefined;
  msg: string | undefined;
  requestId: string | undefined;
}

/** Reads a Push Kit answer; anything unreadable gives all-undefined. */
export function parseHuaweiReply(body: string): HuaweiReply {
  let parsed: Record<string, unknown> = {};
  try {
    const value: unknown = JSON.parse(body);
    if (typeof value === 'object' && value !== null) parsed = value as Record<string, unknown>;
  } catch {
    // not JSON (a proxy's page): the HTTP status speaks
  }
  const string = (value: unknown) =>
    typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;
  return { code: string(parsed.code), msg: string(parsed.msg), requestId: string(parsed.requestId) };
}

/**
 * The tokens an 80100000 answer names as failed. `msg` is a JSON string such as
 * `{"success":1,"failure":1,"illegal_tokens":["…"]}`; its exact shape is not documented, so a
 * token counts as illegal when it is listed, or, if `msg` is not that JSON, when it appears in
 * `msg` as a quoted string.
 */
export function illegalTokens(msg: string | undefined, tokens: readonly string[]): Set<string> {
  const illegal = new Set<string>();
  if (msg === undefined) return illegal;
  try {
    const listed = (JSON.parse(msg) as { illegal_tokens?: unknown }).illegal_tokens;
    if (Array.isArray(listed)) {
      for (const token of listed) if (typeof token === 'string') illegal.add(token);
      return illegal;
    }
  } catch {
    // fall through to the text
  }
  for (const token of tokens) if (msg.includes(`"${token}"`)) illegal.add(token);
  return illegal;
}

/** An answer that is not a (partial) success: by its code, else by the HTTP status. */
export function classifyHuaweiFailure(
  answer: { status: number; reply: HuaweiReply; retryAfter?: string | undefined },
  now: number,
): PushFailure {
  const { status, reply } = answer;
  const known = reply.code === undefined ? undefined : HUAWEI_CODE_CLASSES[reply.code];
  let failure: FailureClass;
  if (known !== undefined) failure = known;
  else if (status >= 500 || status === 429 || status === 408) failure = 'retry';
  else if (status === 401 || status === 403) failure = 'creds';
  else if (status >= 200 && status < 300) failure = 'retry';
  else failure = 'bad_request';
  // 503 is Push Kit's flow control: its code, if any, says less than the status.
  if (status === 503) failure = 'retry';
  const reason = status === 503 && known === undefined ? 'flow_control' : (reply.code ?? `HTTP_${status}`);
  const result: PushFailure = { ok: false, failure, reason };
  if (failure === 'retry') {
    const retryAfterMs = parseRetryAfter(answer.retryAfter, now);
    if (retryAfterMs !== undefined) result.retryAfterMs = retryAfterMs;
  }
  return result;
}
