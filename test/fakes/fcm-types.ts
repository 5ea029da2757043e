/** What tests script the fake FCM to answer, and what it records of each request. */
import type { IncomingHttpHeaders } from 'node:http';
import type { Clock } from '../../src/clock.js';
import type { FakeFcmErrorName } from './fcm-errors.js';

/**
 * How the fake answers one request:
 * - `'ok'`: 200 `{"name": "projects/<p>/messages/<n>"}` (for the token endpoint: a token);
 * - an error name, or `{error, retryAfter}` (`retryAfter: null` drops the canned header);
 * - `{status, body, headers}`: anything, e.g. a proxy's HTML 502;
 * - `{delayMs, answer}`: that answer after a delay;
 * - `'hang'`: never answers; `'reset'`: drops the connection.
 */
export type FakeFcmAnswer =
  | 'ok'
  | 'hang'
  | 'reset'
  | FakeFcmErrorName
  | { error: FakeFcmErrorName; retryAfter?: string | number | null }
  | { status: number; body: string; headers?: Record<string, string> }
  | { delayMs: number; answer: FakeFcmAnswer };

/** One request to the send endpoint, as received. */
export interface FakeFcmReceived {
  /** The fake's clock, Unix ms. */
  at: number;
  project: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body (undefined if it did not parse). */
  body: unknown;
  /** `message.token`, when there is one. */
  token: string | undefined;
  /** The status the fake answered (0: `hang` / `reset`). */
  status: number;
  /** Which connection it came on (1, 2, … in TLS handshake order). */
  connection: number;
}

/** One request to the token endpoint. */
export interface FakeFcmTokenRequest {
  at: number;
  /** The assertion's header and claims, when it decoded. */
  header: Record<string, unknown> | undefined;
  claims: Record<string, unknown> | undefined;
  status: number;
  /** The access token issued, if any. */
  accessToken: string | undefined;
}

export interface FakeFcmOptions {
  /** The fake's idea of now (token expiry, assertion checks). Default: the system clock. */
  clock?: Clock;
  /**
   * Lifetime of issued access tokens. Default 3600 s, like Google. Keep it above 300 s: the
   * adapter replaces a token once less than 5 minutes are left.
   */
  tokenLifetimeSeconds?: number;
  /** Added before every send answer (benchmarks). Default 0. */
  latencyMs?: number;
  /** Keep every request in `received` / `tokenRequests`. Default true; off for long benchmarks. */
  record?: boolean;
}

export interface FakeFcmEvents {
  request: [FakeFcmReceived];
  token: [FakeFcmTokenRequest];
}
