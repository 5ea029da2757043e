import { createHash } from 'node:crypto';
import type { HttpPost } from '../../../net/http-client.js';
import type { CachedAccessToken } from '../shared/access-tokens.js';
import { AccessTokenError, classifyHttpStatus, type PushFailure } from '../shared/errors.js';
import { postForToken } from '../shared/provider-http.js';
import type { OppoSettings } from './oppo.config.js';
import { classifyOppoCode, parseOppoAnswer } from './oppo.errors.js';
import { OPPO_AUTH_PATH } from './oppo.request.js';

/** OPPO's `auth_token` lives 24 hours. */
export const OPPO_AUTH_TOKEN_LIFETIME_MS = 24 * 3600_000;
/** A token is replaced once less than this is left: one token serves about 23 hours. */
export const OPPO_AUTH_TOKEN_REFRESH_MARGIN_MS = 3600_000;

/** `sign` of the auth call: lowercase hex SHA-256 of app key + timestamp + master secret. */
export function oppoSign(appKey: string, timestamp: string, masterSecret: string): string {
  return createHash('sha256').update(`${appKey}${timestamp}${masterSecret}`, 'utf8').digest('hex');
}

type OppoIdentity = Pick<OppoSettings, 'appKey' | 'masterSecret'>;

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

function authError(result: PushFailure): AccessTokenError {
  return new AccessTokenError(result, `OPPO auth failed: ${result.reason}`);
}

/**
 * `POST <base>/server/v1/auth` with `app_key`, `timestamp` (Unix ms) and `sign`; throws
 * `AccessTokenError`: wrong key or secret (14–19), a disabled app (26–30) → creds; OPPO busy,
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
  const answer = await postForToken(post, 'auth_', {
    url: `${baseUrl}${OPPO_AUTH_PATH}`,
    headers: {
      'content-type': 'application/x-www-form-urlencoded;charset=UTF-8',
      accept: 'application/json',
    },
    body: form.toString(),
  });
  const parsed = parseOppoAnswer(answer.body);
  if (parsed === undefined || answer.status < 200 || answer.status >= 300) {
    const failure = classifyHttpStatus(
      answer.status >= 200 && answer.status < 300 ? 502 : answer.status,
      answer.headers['retry-after'],
      now,
    );
    throw authError({ ...failure, reason: `auth_${failure.reason}` });
  }
  if (parsed.code !== 0) {
    const failure = classifyOppoCode(parsed.code, now);
    // A refused token request is never about one phone.
    const result = failure.failure === 'dead' ? { ...failure, failure: 'creds' as const } : failure;
    throw authError({ ...result, reason: `auth_${failure.reason}` });
  }
  if (parsed.authToken === undefined) {
    throw authError({ ok: false, failure: 'retry', reason: 'auth_bad_response' });
  }
  return { token: parsed.authToken, expiresAt: now + OPPO_AUTH_TOKEN_LIFETIME_MS };
}
