import type { HttpPost } from '../../../net/http-client.js';
import { parseRetryAfter } from '../retry-after.js';
import type { CachedAccessToken } from '../shared/access-tokens.js';
import {
  type ClientCredentials,
  clientCredentialsTokenKey,
  describedError,
  isRetryableStatus,
  postClientCredentials,
  tokenExpiry,
} from '../shared/client-credentials.js';
import { AccessTokenError, pushFailure } from '../shared/errors.js';

/** A token is replaced once less than this is left. */
export const HONOR_TOKEN_REFRESH_MARGIN_MS = 5 * 60_000;

/**
 * The client-credentials grant at Honor's token endpoint (form `grant_type=client_credentials`,
 * `client_id`, `client_secret`) → `{access_token, expires_in, token_type}`; a body wrapping
 * them in `data` reads the same. Throws `AccessTokenError`: unreachable, 5xx, 429 → retry; any
 * other refusal (wrong secret, unknown client) → creds. Messages never contain the secret.
 */
export async function fetchHonorAccessToken(
  credentials: ClientCredentials,
  post: HttpPost,
  now: number,
): Promise<CachedAccessToken> {
  const answer = await postClientCredentials(credentials, post);
  const parsed = answer.fields;
  if (answer.status >= 200 && answer.status < 300) {
    const wrapped = typeof parsed.data === 'object' && parsed.data !== null ? parsed.data : {};
    const fields = (typeof parsed.access_token === 'string' ? parsed : wrapped) as Record<string, unknown>;
    if (typeof fields.access_token !== 'string' || fields.access_token === '') {
      throw new AccessTokenError(
        pushFailure('retry', 'oauth_bad_response'),
        'the token endpoint answered without a token',
      );
    }
    return { token: fields.access_token, expiresAt: tokenExpiry(fields.expires_in, now) };
  }
  const name = typeof parsed.error === 'string' && /^[\w.-]{1,64}$/.test(parsed.error) ? parsed.error : '';
  const described = describedError(parsed);
  if (isRetryableStatus(answer.status)) {
    throw new AccessTokenError(
      pushFailure(
        'retry',
        `oauth_http_${answer.status}`,
        parseRetryAfter(answer.headers['retry-after'], now),
      ),
      `the Honor token endpoint answered ${answer.status}`,
    );
  }
  throw new AccessTokenError(
    pushFailure('creds', name === '' ? `oauth_http_${answer.status}` : `oauth_${name}`),
    `the Honor token endpoint refused client ${credentials.clientId} (${answer.status})${described}`,
  );
}

/** The store key of the app's access tokens (see `clientCredentialsTokenKey`). */
export function honorAccessTokenKey(credentials: ClientCredentials): string {
  return clientCredentialsTokenKey('honor', credentials);
}
