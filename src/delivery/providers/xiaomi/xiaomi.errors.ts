import type { FailureClass } from '../adapter.js';
import { msUntilChinaMidnight } from '../shared/china-time.js';
import type { PushFailure } from '../shared/errors.js';

type XiaomiClass = FailureClass | 'quota';

/**
 * MiPush result codes (reference/providers.md §4.4). `dead` is for 20301 only ("No valid
 * targets!": none of the request's regIds can be reached); single bad regIds of a request
 * that went out come back in `data.bad_regids` instead.
 */
const CODES: ReadonlyMap<number, XiaomiClass> = new Map<number, XiaomiClass>([
  // unknown / internal / system / remote service errors, busy, too frequent, expired request
  [-1, 'retry'],
  [1, 'retry'],
  [10001, 'retry'],
  [10002, 'retry'],
  [10003, 'retry'],
  [10027, 'retry'],
  [10037, 'retry'],
  [26003, 'retry'],
  [65029, 'retry'],
  // "device not found": usually offline for now
  [65003, 'retry'],
  // the app's messages for today are used up
  [10034, 'quota'],
  [200001, 'quota'],
  // parameter missing or illegal, message too long
  [10008, 'bad_request'],
  [10016, 'bad_request'],
  [10017, 'bad_request'],
  [21305, 'bad_request'],
  [65009, 'bad_request'],
  [65011, 'bad_request'],
  [20301, 'dead'],
  // wrong AppSecret, token auth, restricted request, illegal app / app id / key / package
  [21301, 'creds'],
  [21302, 'creds'],
  [21303, 'creds'],
  [22000, 'creds'],
  [22006, 'creds'],
  [22007, 'creds'],
  [22022, 'creds'],
  // app blacklisted, operation forbidden, channel not the app's (unapproved `extra.channel_id`)
  [10031, 'creds'],
  [10036, 'creds'],
  [26005, 'creds'],
  [27001, 'creds'],
]);

/** A MiPush answer body, as far as the adapter reads it. */
export interface XiaomiAnswerBody {
  code: number | undefined;
  /** `data.id`: the message id of a send that went out. */
  messageId: string | undefined;
  /** `data.bad_regids`: regIds MiPush refused although the send went out. */
  badRegIds: Set<string>;
}

const recordOf = (value: unknown): Record<string, unknown> | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;

/** Reads a MiPush answer; undefined when it is not MiPush's JSON (a proxy's page, say). */
export function parseXiaomiAnswer(body: string): XiaomiAnswerBody | undefined {
  let parsed: Record<string, unknown> | undefined;
  try {
    parsed = recordOf(JSON.parse(body));
  } catch {
    return undefined;
  }
  if (parsed === undefined) return undefined;
  const code = typeof parsed.code === 'number' ? parsed.code : Number(parsed.code);
  const data = recordOf(parsed.data);
  const bad = typeof data?.bad_regids === 'string' ? data.bad_regids : '';
  return {
    code: Number.isInteger(code) ? code : undefined,
    messageId: typeof data?.id === 'string' ? data.id : undefined,
    badRegIds: new Set(bad.split(',').filter((token) => token !== '')),
  };
}

/**
 * The class of a MiPush error code (reference/providers.md §4.4): daily-quota codes are
 * retried once the quota resets (midnight in China); an unknown code is `bad_request`, so an
 * answer nobody understands is never sent again unchanged. `reason` is `MIPUSH_<code>`.
 */
export function classifyXiaomiCode(code: number, now: number): PushFailure {
  const reason = `MIPUSH_${code}`;
  const kind = CODES.get(code) ?? 'bad_request';
  if (kind === 'quota') {
    return { ok: false, failure: 'retry', reason, retryAfterMs: msUntilChinaMidnight(now) };
  }
  return { ok: false, failure: kind, reason };
}
