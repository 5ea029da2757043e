/** What tests script the fake MiPush to answer, and what it records of each request. */
import type { IncomingHttpHeaders } from 'node:http';
import type { Clock } from '../../src/clock.js';
import type { XiaomiRegion } from '../../src/delivery/providers/xiaomi/xiaomi.config.js';
import type { FakeXiaomiErrorName } from './xiaomi-errors.js';

/**
 * How the fake answers:
 * - `'ok'`: sent; `'bad_regid'` (for one token): the send goes out and lists the token in
 *   `data.bad_regids` — or answers 20301 when no token of the request is left;
 * - an error name: that MiPush error, for the whole request (`{error, reason}` rewords it);
 * - `{status, body, headers}`: anything, e.g. a proxy's HTML 502 or a 429 with Retry-After;
 * - `{delayMs, answer}`: that answer after a delay; `'hang'`: never; `'reset'`: drops the connection.
 */
export type FakeXiaomiAnswer =
  | 'ok'
  | 'bad_regid'
  | 'hang'
  | 'reset'
  | FakeXiaomiErrorName
  | { error: FakeXiaomiErrorName; reason: string }
  | { status: number; body: string; headers?: Record<string, string> }
  | { delayMs: number; answer: FakeXiaomiAnswer };

/** One request, as received. */
export interface FakeXiaomiReceived {
  /** The fake's clock, Unix ms. */
  at: number;
  /** The region whose host it was sent to (`regionUrls()`); null for the bare `url`. */
  region: XiaomiRegion | null;
  path: string;
  headers: IncomingHttpHeaders;
  /** The form fields, decoded. */
  fields: Record<string, string>;
  /** `registration_id`, split at the commas. */
  tokens: string[];
  /** The HTTP status answered (0: `hang` / `reset`). */
  status: number;
  /** MiPush's `code` answered, when the answer was MiPush's JSON. */
  code: number | undefined;
  /** The regIds answered in `data.bad_regids`. */
  badRegIds: string[];
}

export interface FakeXiaomiOptions {
  /** The fake's idea of now (recorded as `at`). Default: the system clock. */
  clock?: Clock;
  /** The AppSecret the fake accepts. Default FAKE_XIAOMI_APP.appSecret. */
  appSecret?: string;
  packageName?: string;
  /** The channel ids approved for the app; others answer 27001. */
  channels?: readonly string[];
  /** Added before every answer (benchmarks). Default 0. */
  latencyMs?: number;
  /** Keep every request in `received`. Default true; off for long benchmarks (counters still count). */
  record?: boolean;
}

export interface FakeXiaomiEvents {
  request: [FakeXiaomiReceived];
}
