/** What tests script the fake Push Kit to answer, and what it records of each request. */
import type { IncomingHttpHeaders } from 'node:http';
import type { Clock } from '../../src/clock.js';
import type { FakeHuaweiErrorName } from './huawei-errors.js';

/**
 * How the fake answers:
 * - `'ok'`: success; `'invalid'` (per token only): the token is illegal — listed in an
 *   80100000 partial success, or 80300007 when every token of the request is;
 * - an error name, or `{error, retryAfter}` (`retryAfter: null` drops a canned Retry-After);
 * - `{status, body, headers}`: anything, e.g. a proxy's HTML 502;
 * - `{delayMs, answer}`: that answer after a delay; `'hang'`: never; `'reset'`: drops the connection.
 */
export type FakeHuaweiAnswer =
  | 'ok'
  | 'invalid'
  | 'hang'
  | 'reset'
  | FakeHuaweiErrorName
  | { error: FakeHuaweiErrorName; retryAfter?: string | number | null }
  | { status: number; body: string; headers?: Record<string, string> }
  | { delayMs: number; answer: FakeHuaweiAnswer };

/** One request to the send endpoint, as received. */
export interface FakeHuaweiReceived {
  /** The fake's clock, Unix ms. */
  at: number;
  /** The `{app_id}` of the URL. */
  appId: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body (undefined if it did not parse). */
  body: unknown;
  /** `message.token`. */
  tokens: string[];
  /** The HTTP status answered (0: `hang` / `reset`) and the body's code. */
  status: number;
  code: string | undefined;
  /** The tokens answered as illegal. */
  illegalTokens: string[];
}

/** One request to the token endpoint. */
export interface FakeHuaweiTokenRequest {
  at: number;
  clientId: string | undefined;
  status: number;
  accessToken: string | undefined;
}

export interface FakeHuaweiOptions {
  /** The fake's idea of now (token expiry). Default: the system clock. */
  clock?: Clock;
  appId?: string;
  /** Default: the app id (an AppGallery Connect app). */
  clientId?: string;
  clientSecret?: string;
  /** Lifetime of issued access tokens. Default 3600 s, like Huawei. */
  tokenLifetimeSeconds?: number;
  /** Whether the app holds the high-priority (urgency HIGH) permission. Default true. */
  highPriorityAllowed?: boolean;
  /** Added before every send answer (benchmarks). Default 0. */
  latencyMs?: number;
  /** Keep every request in `received` / `tokenRequests`. Default true; off for benchmarks. */
  record?: boolean;
}

export interface FakeHuaweiEvents {
  request: [FakeHuaweiReceived];
  token: [FakeHuaweiTokenRequest];
}
