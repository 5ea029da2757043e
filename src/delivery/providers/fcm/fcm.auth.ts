import type { KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import type { HttpPost } from '../../../net/http-client.js';
import { parseRetryAfter } from '../retry-after.js';
import { type CachedAccessToken, secretDigest } from '../shared/access-tokens.js';
import { AccessTokenError, pushFailure } from '../shared/errors.js';
import { postForToken } from '../shared/provider-http.js';

/** The one scope FCM HTTP v1 needs. */
export const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
/** Google caps assertions at one hour. */
const ASSERTION_LIFETIME_SECONDS = 3600;
/** A token is replaced once less than this is left (the Admin SDK's threshold). */
export const FCM_TOKEN_REFRESH_MARGIN_MS = 5 * 60_000;
const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** The service-account fields the OAuth2 flow uses. */
export interface ServiceAccountIdentity {
  clientEmail: string;
  privateKey: KeyObject;
  privateKeyId: string | undefined;
  tokenUri: string;
}

/** The store key of a service account's tokens: its e-mail, endpoint and a digest of its key. */
export function fcmAccessTokenKey(
  identity: Pick<ServiceAccountIdentity, 'clientEmail' | 'tokenUri' | 'privateKey'>,
): string {
  const key = identity.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  return `fcm ${identity.clientEmail} ${identity.tokenUri} ${secretDigest(key)}`;
}

/**
 * The signed assertion of the JWT-bearer grant (RFC 7523): RS256, `iss` = the service
 * account, `scope` = FCM, `aud` = the token endpoint, one hour at most.
 */
export function createServiceAccountAssertion(
  identity: ServiceAccountIdentity,
  now: number,
): Promise<string> {
  const iat = Math.floor(now / 1000);
  return new SignJWT({
    iss: identity.clientEmail,
    scope: FCM_SCOPE,
    aud: identity.tokenUri,
    iat,
    exp: iat + ASSERTION_LIFETIME_SECONDS,
  })
    .setProtectedHeader({
      alg: 'RS256',
      typ: 'JWT',
      ...(identity.privateKeyId !== undefined ? { kid: identity.privateKeyId } : {}),
    })
    .sign(identity.privateKey);
}

function oauthErrorName(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { error?: unknown; error_description?: unknown };
    if (typeof parsed.error === 'string' && /^[\w.-]{1,64}$/.test(parsed.error)) return parsed.error;
  } catch {
    // not JSON: the HTTP status speaks
  }
  return undefined;
}

function describe(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error_description?: unknown };
    if (typeof parsed.error_description === 'string') return parsed.error_description.slice(0, 300);
  } catch {
    // fall through
  }
  return body.slice(0, 120);
}

/** Exchanges an assertion for an access token; throws `AccessTokenError`. */
export async function fetchFcmAccessToken(
  identity: ServiceAccountIdentity,
  post: HttpPost,
  now: number,
): Promise<CachedAccessToken> {
  let assertion: string;
  try {
    assertion = await createServiceAccountAssertion(identity, now);
  } catch (error) {
    throw new AccessTokenError(pushFailure('creds', 'oauth_signing_failed'), 'the private key cannot sign', {
      cause: error,
    });
  }
  const form = new URLSearchParams({ grant_type: JWT_BEARER_GRANT, assertion }).toString();
  const answer = await postForToken(post, 'oauth_', {
    url: identity.tokenUri,
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: form,
  });

  if (answer.status >= 200 && answer.status < 300) {
    let parsed: { access_token?: unknown; expires_in?: unknown; token_type?: unknown };
    try {
      parsed = JSON.parse(answer.body) as typeof parsed;
    } catch {
      parsed = {};
    }
    if (typeof parsed.access_token !== 'string' || parsed.access_token === '') {
      throw new AccessTokenError(
        pushFailure('retry', 'oauth_bad_response'),
        'the token endpoint answered without an access_token',
      );
    }
    if (typeof parsed.token_type === 'string' && parsed.token_type.toLowerCase() !== 'bearer') {
      throw new AccessTokenError(
        pushFailure('retry', 'oauth_bad_response'),
        `unexpected token_type ${parsed.token_type}`,
      );
    }
    const expiresIn = Number(parsed.expires_in);
    const lifetimeSeconds = Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : 3600;
    return { token: parsed.access_token, expiresAt: now + lifetimeSeconds * 1000 };
  }

  const status = answer.status;
  const name = oauthErrorName(answer.body);
  if (status >= 500 || status === 429 || status === 408) {
    throw new AccessTokenError(
      pushFailure('retry', `oauth_http_${status}`, parseRetryAfter(answer.headers['retry-after'], now)),
      `token endpoint answered ${status}: ${describe(answer.body)}`,
    );
  }
  // 400 invalid_grant (bad key, deleted key, clock skew), 401 invalid_client, 403, …: ours.
  throw new AccessTokenError(
    pushFailure('creds', name !== undefined ? `oauth_${name}` : `oauth_http_${status}`),
    `token endpoint refused the service account (${status}): ${describe(answer.body)}`,
  );
}
