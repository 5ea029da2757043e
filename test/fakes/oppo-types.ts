/** What tests script the fake OPPO PUSH to answer, and what it records of each request. */
import type { IncomingHttpHeaders } from 'node:http';
import type { Clock } from '../../src/clock.js';
import type { RawAnswer } from './https-fake.js';

/**
 * How the fake answers one request (`scriptRequests`, `setOutage`):
 * - `'ok'`: the real checks and answer;
 * - a number: that OPPO code, HTTP 200 `{code, message}`;
 * - `{status, body, headers}`: anything, e.g. a proxy's HTML 502;
 * - `{delayMs, answer}`: that answer after a delay;
 * - `'hang'`: never answers; `'reset'`: drops the connection.
 */
export type FakeOppoAnswer =
  | 'ok'
  | 'hang'
  | 'reset'
  | number
  | RawAnswer
  | { delayMs: number; answer: FakeOppoAnswer };

/**
 * How the fake answers for one registration id (`script`): `'ok'`, or an OPPO code — the
 * response's `code` for `unicast`, the entry's `errorCode` in a `unicast_batch` answer.
 */
export type FakeOppoTokenAnswer = 'ok' | number;

export type FakeOppoRegion = 'cn' | 'intl';

/** One send request (`unicast` or `unicast_batch`), as received. */
export interface FakeOppoReceived {
  /** The fake's clock, Unix ms. */
  at: number;
  region: FakeOppoRegion;
  api: 'unicast' | 'unicast_batch';
  headers: IncomingHttpHeaders;
  authToken: string | undefined;
  /** The parsed `message` (one) or `messages` (many); empty when they did not parse. */
  messages: Array<Record<string, unknown>>;
  /** `target_value` of each message. */
  tokens: string[];
  /** The `code` answered (undefined: `hang`, `reset` or a raw HTTP answer). */
  code: number | undefined;
  /** Per message of a batch: its `errorCode`, 0 when sent. */
  errorCodes: number[];
}

/** One request to `/server/v1/auth`. */
export interface FakeOppoAuthRequest {
  at: number;
  region: FakeOppoRegion;
  fields: Record<string, string>;
  code: number | undefined;
  /** The token issued, if any. */
  authToken: string | undefined;
}

export interface FakeOppoOptions {
  /** The fake's idea of now (timestamps, token expiry, daily limits). Default: the system clock. */
  clock?: Clock;
  appKey?: string;
  masterSecret?: string;
  /** Lifetime of issued `auth_token`s. Default 24 h, like OPPO. */
  authTokenLifetimeMs?: number;
  /** Messages accepted per China day, over both hosts; default unlimited. */
  dailyLimit?: number;
  /** Categories the app may use with `notify_level` 16 (OPPO's approval). Default `IM`. */
  strongReminderCategories?: readonly string[];
  /** Added before every send answer (benchmarks). Default 0. */
  latencyMs?: number;
  /** Keep every request in `received` / `authRequests`. Default true; off for long benchmarks. */
  record?: boolean;
}

export interface FakeOppoEvents {
  request: [FakeOppoReceived];
  auth: [FakeOppoAuthRequest];
}
