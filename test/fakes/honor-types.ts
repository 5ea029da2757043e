/** What tests script the fake Honor Push to answer, and what it records of each request. */
import type { IncomingHttpHeaders } from 'node:http';
import type { Clock } from '../../src/clock.js';
import type { FakeHonorErrorName } from './honor-errors.js';

/** The paths of the token endpoint in the two host families (see docs/providers/honor.md). */
export const FAKE_HONOR_AUTH_PATHS = {
  hihonor: '/auth/realms/developer/protocol/openid-connect/token',
  honor: '/auth/token',
} as const;
export type HonorHostFamily = keyof typeof FAKE_HONOR_AUTH_PATHS;

/**
 * How the fake answers a request:
 * - `'ok'`: `{"code": 200, "message": "success", "data": {sendResult, requestId, failTokens, expireTokens}}`;
 * - an error name, or `{error, retryAfter}`: that answer for the whole request;
 * - `{status, body, headers}`: anything, e.g. a proxy's HTML 502;
 * - `{delayMs, answer}`; `'hang'`: never answers; `'reset'`: drops the connection.
 */
export type FakeHonorAnswer =
  | 'ok'
  | 'hang'
  | 'reset'
  | FakeHonorErrorName
  | { error: FakeHonorErrorName; retryAfter?: string | number }
  | { status: number; body: string; headers?: Record<string, string> }
  | { delayMs: number; answer: FakeHonorAnswer };

/**
 * Per token (`script`, after authentication and body checks) also: `'expire'` / `'fail'` list the
 * token in a success answer's `expireTokens` / `failTokens`; anything else answers the whole request.
 */
export type FakeHonorTokenAnswer = FakeHonorAnswer | 'expire' | 'fail';

/** One `sendMessage` request, as received. */
export interface FakeHonorReceived {
  /** The fake's clock, Unix ms. */
  at: number;
  appId: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body (undefined if it did not parse). */
  body: Record<string, unknown> | undefined;
  tokens: string[];
  status: number;
  /** Honor's `code` in the answer (undefined for hang / reset / non-Honor bodies). */
  code: number | undefined;
}

/** One request to the token endpoint. */
export interface FakeHonorTokenRequest {
  at: number;
  family: HonorHostFamily;
  clientId: string | undefined;
  status: number;
  accessToken: string | undefined;
}

export interface FakeHonorOptions {
  /** The fake's idea of now (token expiry, `timestamp` check). Default: the system clock. */
  clock?: Clock;
  /** Lifetime of issued access tokens (`expires_in`). Default 3600 s. */
  tokenLifetimeSeconds?: number;
  /** The app's credentials; default the test app's. */
  appId?: string;
  clientId?: string;
  clientSecret?: string;
  /** `android.category` values the app was granted; others answer 80300011. Default `['VOIP']`. */
  categories?: readonly string[];
  /** Keep every request in `received` / `tokenRequests`. Default true; off for benchmarks. */
  record?: boolean;
}

export interface FakeHonorEvents {
  request: [FakeHonorReceived];
  token: [FakeHonorTokenRequest];
}
