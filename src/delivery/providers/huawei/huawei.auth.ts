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

/** A token is replaced once less than this is left of its hour. */
export const HUAWEI_TOKEN_REFRESH_MARGIN_MS = 5 * 60_000;

/** The store key of an app's access tokens (see `clientCredentialsTokenKey`). */
export function huaweiAccessTokenKey(credentials: ClientCredentials): string {
  return clientCredentialsTokenKey('huawei', credentials);
}

/**
 * The client-credentials grant (reference/providers.md §3.2): a form POST of the client id and
 * secret, answered `{access_token, expires_in, token_type}`. Throws `AccessTokenError`: refused
 * credentials (4xx, e.g. `{"error":1101,"sub_error":20152,"error_description":"invalid client"}`)
 * are `creds`; 5xx, 429 and network faults `retry`.
 */
export async function fetchHuaweiAccessToken(
  settings: ClientCredentials,
  post: HttpPost,
  now: number,
): Promise<CachedAccessToken> {
  const answer = await postClientCredentials(settings, post);
  // A proxy's page has no fields: the status speaks.
  const parsed = answer.fields;
  const token = parsed.access_token;
  if (answer.status === 200 && typeof token === 'string' && token !== '') {
    return { token, expiresAt: tokenExpiry(parsed.expires_in, now) };
  }
  const retry = isRetryableStatus(answer.status) || answer.status < 300;
  const code =
    typeof parsed.error === 'number' || typeof parsed.error === 'string' ? parsed.error : undefined;
  const description = describedError(parsed);
  throw new AccessTokenError(
    pushFailure(
      retry ? 'retry' : 'creds',
      code !== undefined && !retry ? `oauth_${code}` : `oauth_http_${answer.status}`,
      retry ? parseRetryAfter(answer.headers['retry-after'], now) : undefined,
    ),
    `the Huawei OAuth server answered ${answer.status}${description}`,
  );
}
