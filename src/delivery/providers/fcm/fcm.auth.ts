import type { KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import type { Clock } from '../../../clock.js';
import {
  AccessTokenError,
  type AccessTokenSource,
  type AccessTokenStore,
  type CachedAccessToken,
  createAccessTokenSource,
  secretDigest,
} from '../shared/access-tokens.js';
import { type HttpPost, HttpTransportError } from '../shared/http-client.js';
import { parseRetryAfter } from './fcm.errors.js';

/** The one scope FCM HTTP v1 needs. */
export const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
/** Google caps assertions at one hour. */
const ASSERTION_LIFETIME_SECONDS = 3600;
/** A token is replaced once less than this is left (the Admin SDK's threshold). */
export const ACCESS_TOKEN_REFRESH_MARGIN_MS = 5 * 60_000;
const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** The service-account fields the OAuth2 flow uses. */
export interface ServiceAccountIdentity {
  clientEmail: string;
  privateKey: KeyObject;
  privateKeyId: string | undefined;
  tokenUri: string;
}

/** The store key of a service account's tokens: its e-mail, endpoint and a digest of its key. */
export function accessTokenKey(
  identity: Pick<ServiceAccountIdentity, 'clientEmail' | 'tokenUri' | 'privateKey'>,
): string {
  const key = identity.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  return `fcm ${identity.clientEmail} ${identity.tokenUri} ${secretDigest(key)}`;
}

/** Getting an access token failed; `failure` says how the sends waiting for it fail. */
export class FcmAuthError extends AccessTokenError {
  override name = 'FcmAuthError';
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

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
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

/** Exchanges an assertion for an access token; throws `FcmAuthError`. */
export async function fetchAccessToken(
  identity: ServiceAccountIdentity,
  post: HttpPost,
  now: number,
): Promise<CachedAccessToken> {
  let assertion: string;
  try {
    assertion = await createServiceAccountAssertion(identity, now);
  } catch (error) {
    throw new FcmAuthError('creds', 'oauth_signing_failed', 'the private key cannot sign', undefined, {
      cause: error,
    });
  }
  const form = new URLSearchParams({ grant_type: JWT_BEARER_GRANT, assertion }).toString();
  let answer: Awaited<ReturnType<HttpPost>>;
  try {
    answer = await post(
      identity.tokenUri,
      { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      form,
    );
  } catch (error) {
    const transport = error instanceof HttpTransportError ? error.reason : 'network_error';
    const reason = transport === 'closed' ? 'adapter_closed' : `oauth_${transport}`;
    const detail = error instanceof Error ? error.message : String(error);
    throw new FcmAuthError('retry', reason, `token endpoint unreachable: ${detail}`, undefined, {
      cause: error,
    });
  }

  if (answer.status >= 200 && answer.status < 300) {
    let parsed: { access_token?: unknown; expires_in?: unknown; token_type?: unknown };
    try {
      parsed = JSON.parse(answer.body) as typeof parsed;
    } catch {
      parsed = {};
    }
    if (typeof parsed.access_token !== 'string' || parsed.access_token === '') {
      throw new FcmAuthError(
        'retry',
        'oauth_bad_response',
        'the token endpoint answered without an access_token',
      );
    }
    if (typeof parsed.token_type === 'string' && parsed.token_type.toLowerCase() !== 'bearer') {
      throw new FcmAuthError('retry', 'oauth_bad_response', `unexpected token_type ${parsed.token_type}`);
    }
    const expiresIn = Number(parsed.expires_in);
    const lifetimeSeconds = Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : 3600;
    return { token: parsed.access_token, expiresAt: now + lifetimeSeconds * 1000 };
  }

  const status = answer.status;
  const name = oauthErrorName(answer.body);
  if (status >= 500 || status === 429 || status === 408) {
    throw new FcmAuthError(
      'retry',
      `oauth_http_${status}`,
      `token endpoint answered ${status}: ${describe(answer.body)}`,
      parseRetryAfter(headerValue(answer.headers['retry-after']), now),
    );
  }
  // 400 invalid_grant (bad key, deleted key, clock skew), 401 invalid_client, 403, …: ours.
  throw new FcmAuthError(
    'creds',
    name !== undefined ? `oauth_${name}` : `oauth_http_${status}`,
    `token endpoint refused the service account (${status}): ${describe(answer.body)}`,
  );
}

export interface FcmAccessTokenOptions {
  identity: ServiceAccountIdentity;
  post: HttpPost;
  clock: Clock;
  store?: AccessTokenStore | undefined;
}

/** The service account's access tokens, replaced 5 minutes before they expire. */
export function createFcmAccessTokenSource(options: FcmAccessTokenOptions): AccessTokenSource {
  const { identity, post, clock } = options;
  return createAccessTokenSource({
    key: accessTokenKey(identity),
    fetch: () => fetchAccessToken(identity, post, clock.now()),
    clock,
    refreshMarginMs: ACCESS_TOKEN_REFRESH_MARGIN_MS,
    store: options.store,
  });
}
