import { createHash } from 'node:crypto';
import type { Clock } from '../../../clock.js';
import {
  type AccessTokenSource,
  type AccessTokenStore,
  type CachedAccessToken,
  createAccessTokenSource,
} from '../shared/access-tokens.js';
import { type HttpPost, HttpTransportError } from '../shared/http-client.js';
import {
  classifyOppoCode,
  classifyOppoHttpStatus,
  type PushFailure,
  parseOppoAnswer,
} from './oppo.errors.js';
import { OPPO_AUTH_PATH } from './oppo.request.js';

/** OPPO's `auth_token` lives 24 hours. */
export const OPPO_AUTH_TOKEN_LIFETIME_MS = 24 * 3600_000;
/** A token is replaced once less than this is left: one token serves about 23 hours. */
export const OPPO_AUTH_TOKEN_REFRESH_MARGIN_MS = 3600_000;

/** `sign` of the auth call: lowercase hex SHA-256 of app key + timestamp + master secret. */
export function oppoSign(appKey: string, timestamp: string, masterSecret: string): string {
  return createHash('sha256').update(`${appKey}${timestamp}${masterSecret}`, 'utf8').digest('hex');
}

/**
 * The store key of an app key's tokens on one host. It never contains the secret, but names it
 * by a digest: settings with the same app key and a wrong secret must not ride on a token the
 * right secret obtained.
 */
export function oppoAuthTokenKey(identity: OppoIdentity, baseUrl: string): string {
  const secret = createHash('sha256')
    .update(`oppo master secret\u0000${identity.masterSecret}`)
    .digest('hex');
  return `oppo ${identity.appKey} ${secret.slice(0, 16)} ${baseUrl}`;
}

/** Getting an `auth_token` failed; `failure` says how the sends waiting for it fail. */
export class OppoAuthError extends Error {
  override name = 'OppoAuthError';
  constructor(readonly result: PushFailure) {
    super(`OPPO auth failed: ${result.reason}`);
  }
}

/** Transport faults as results: `closed` is the adapter's, anything else the network's. */
export function transportFailure(error: unknown, prefix = ''): PushFailure {
  const reason = error instanceof HttpTransportError ? error.reason : 'network_error';
  return {
    ok: false,
    failure: 'retry',
    reason: reason === 'closed' ? 'adapter_closed' : `${prefix}${reason}`,
  };
}

export interface OppoIdentity {
  appKey: string;
  masterSecret: string;
}

/**
 * `POST <base>/server/v1/auth` with `app_key`, `timestamp` (Unix ms) and `sign`; throws
 * `OppoAuthError`: wrong key or secret (14–19), a disabled app (26–30) → creds; OPPO busy,
 * a network fault → retry. Reasons are prefixed `auth_`.
 */
export async function fetchOppoAuthToken(
  identity: OppoIdentity,
  baseUrl: string,
  post: HttpPost,
  now: number,
): Promise<CachedAccessToken> {
  const timestamp = String(now);
  const form = new URLSearchParams({
    app_key: identity.appKey,
    timestamp,
    sign: oppoSign(identity.appKey, timestamp, identity.masterSecret),
  });
  let answer: Awaited<ReturnType<HttpPost>>;
  try {
    answer = await post(
      `${baseUrl}${OPPO_AUTH_PATH}`,
      { 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8', accept: 'application/json' },
      form.toString(),
    );
  } catch (error) {
    throw new OppoAuthError(transportFailure(error, 'auth_'));
  }
  const parsed = parseOppoAnswer(answer.body);
  if (parsed === undefined || answer.status < 200 || answer.status >= 300) {
    const retryAfter = answer.headers['retry-after'];
    const failure = classifyOppoHttpStatus(
      answer.status >= 200 && answer.status < 300 ? 502 : answer.status,
      Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
      now,
    );
    throw new OppoAuthError({ ...failure, reason: `auth_${failure.reason}` });
  }
  if (parsed.code !== 0) {
    const failure = classifyOppoCode(parsed.code, now);
    // A refused token request is never about one phone.
    const result = failure.failure === 'dead' ? { ...failure, failure: 'creds' as const } : failure;
    throw new OppoAuthError({ ...result, reason: `auth_${failure.reason}` });
  }
  if (parsed.authToken === undefined) {
    throw new OppoAuthError({ ok: false, failure: 'retry', reason: 'auth_bad_response' });
  }
  return { token: parsed.authToken, expiresAt: now + OPPO_AUTH_TOKEN_LIFETIME_MS };
}

export interface OppoAuthTokenOptions {
  identity: OppoIdentity;
  baseUrl: string;
  post: HttpPost;
  clock: Clock;
  store?: AccessTokenStore | undefined;
}

/** One host's `auth_token`s for an app key: cached, shared through the store, single-flight. */
export function createOppoAuthTokenSource(options: OppoAuthTokenOptions): AccessTokenSource {
  const { identity, baseUrl, post, clock } = options;
  return createAccessTokenSource({
    key: oppoAuthTokenKey(identity, baseUrl),
    fetch: () => fetchOppoAuthToken(identity, baseUrl, post, clock.now()),
    clock,
    refreshMarginMs: OPPO_AUTH_TOKEN_REFRESH_MARGIN_MS,
    store: options.store,
  });
}
