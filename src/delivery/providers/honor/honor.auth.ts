import type { Clock } from '../../../clock.js';
import { parseRetryAfter } from '../retry-after.js';
import {
  AccessTokenError,
  type AccessTokenSource,
  type AccessTokenStore,
  type CachedAccessToken,
} from '../shared/access-tokens.js';
import {
  clientCredentialsTokenKey,
  createClientCredentialsTokenSource,
  describedError,
  isRetryableStatus,
  postClientCredentials,
  tokenExpiry,
} from '../shared/client-credentials.js';
import type { HttpPost } from '../shared/http-client.js';
import type { HonorSettings } from './honor.config.js';

/** A token is replaced once less than this is left. */
export const HONOR_TOKEN_REFRESH_MARGIN_MS = 5 * 60_000;

/** Getting an access token failed; `failure` says how the sends waiting for it fail. */
export class HonorAuthError extends AccessTokenError {
  override name = 'HonorAuthError';
}

type Credentials = Pick<HonorSettings, 'clientId' | 'clientSecret' | 'authUrl'>;

/**
 * The client-credentials grant at Honor's token endpoint (form `grant_type=client_credentials`,
 * `client_id`, `client_secret`) → `{access_token, expires_in, token_type}`; a body wrapping
 * them in `data` reads the same. Throws `HonorAuthError`: unreachable, 5xx, 429 → retry; any
 * other refusal (wrong secret, unknown client) → creds. Messages never contain the secret.
 */
export async function fetchHonorAccessToken(
  credentials: Credentials,
  post: HttpPost,
  now: number,
): Promise<CachedAccessToken> {
  const answer = await postClientCredentials(
    credentials,
    post,
    (reason) => new HonorAuthError('retry', reason, 'the Honor token endpoint did not answer'),
  );
  const parsed = answer.fields;
  if (answer.status >= 200 && answer.status < 300) {
    const wrapped = typeof parsed.data === 'object' && parsed.data !== null ? parsed.data : {};
    const fields = (typeof parsed.access_token === 'string' ? parsed : wrapped) as Record<string, unknown>;
    if (typeof fields.access_token !== 'string' || fields.access_token === '') {
      throw new HonorAuthError('retry', 'oauth_bad_response', 'the token endpoint answered without a token');
    }
    return { token: fields.access_token, expiresAt: tokenExpiry(fields.expires_in, now) };
  }
  const name = typeof parsed.error === 'string' && /^[\w.-]{1,64}$/.test(parsed.error) ? parsed.error : '';
  const described = describedError(parsed);
  if (isRetryableStatus(answer.status)) {
    throw new HonorAuthError(
      'retry',
      `oauth_http_${answer.status}`,
      `the Honor token endpoint answered ${answer.status}`,
      parseRetryAfter(firstHeader(answer.headers['retry-after']), now),
    );
  }
  throw new HonorAuthError(
    'creds',
    name === '' ? `oauth_http_${answer.status}` : `oauth_${name}`,
    `the Honor token endpoint refused client ${credentials.clientId} (${answer.status})${described}`,
  );
}

export function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export function honorAccessTokenKey(credentials: Credentials): string {
  return clientCredentialsTokenKey('honor', credentials);
}

/** The app's access tokens: cached in `store` (see `clientCredentialsTokenKey`), replaced 5 minutes early. */
export function createHonorAccessTokenSource(options: {
  credentials: Credentials;
  post: HttpPost;
  clock: Clock;
  store?: AccessTokenStore | undefined;
}): AccessTokenSource {
  return createClientCredentialsTokenSource({
    ...options,
    provider: 'honor',
    fetch: fetchHonorAccessToken,
    refreshMarginMs: HONOR_TOKEN_REFRESH_MARGIN_MS,
  });
}
