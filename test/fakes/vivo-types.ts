/** What tests script the fake vivo PUSH to answer, and what it records of each request. */
import type { IncomingHttpHeaders } from 'node:http';
import type { Clock } from '../../src/clock.js';
import type { FakeVivoResult } from './vivo-answers.js';

/**
 * How the fake answers (after authentication and body checks):
 * - `'ok'`: success;
 * - `{invalidUser: 1 | 2 | 3 | 4}`: success, the regId listed as refused with that status;
 * - `{result: code}`: that vivo error for the whole request;
 * - `{status, body, headers}`: anything, e.g. a proxy's HTML 502;
 * - `'hang'`: never answers; `'reset'`: drops the connection.
 */
export type FakeVivoAnswer =
  | 'ok'
  | 'hang'
  | 'reset'
  | { invalidUser: number }
  | { result: FakeVivoResult }
  | { status: number; body: string; headers?: Record<string, string> };

export type FakeVivoEndpoint = 'auth' | 'send' | 'saveListPayload' | 'pushToList';

/** One request, as received. */
export interface FakeVivoReceived {
  /** The fake's clock, Unix ms. */
  at: number;
  endpoint: FakeVivoEndpoint;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body (undefined if it did not parse). */
  body: Record<string, unknown> | undefined;
  /** The HTTP status answered (0: `hang` / `reset`). */
  status: number;
  /** vivo's `result` answered, when there was one. */
  result: number | undefined;
  /** `regId` of a send, `regIds` of a pushToList; empty otherwise. */
  regIds: string[];
  /** Answered from an earlier request with the same `requestId`. */
  duplicate: boolean;
}

export interface FakeVivoOptions {
  /** The fake's idea of now (timestamps, token expiry). Default: the system clock. */
  clock?: Clock;
  appId?: string;
  appKey?: string;
  appSecret?: string;
  /** Lifetime of issued authTokens. Default one day, like vivo. */
  tokenLifetimeMs?: number;
  /** Keep every request in `received`. Default true; off for long benchmarks (counters still count). */
  record?: boolean;
}
