import type { Clock } from '../../../clock.js';
import { parseRetryAfter } from '../retry-after.js';
import {
  AccessTokenError,
  type AccessTokenSource,
  type AccessTokenStore,
  type CachedAccessToken,
} from '../shared/access-tokens.js';
import {
  createClientCredentialsTokenSource,
  describedError,
  isRetryableStatus,
  postClientCredentials,
  tokenExpiry,
} from '../shared/client-credentials.js';
import type { HttpPost } from '../shared/http-client.js';
import { transportReason } from '../shared/provider-http.js';
import type { HuaweiSettings } from './huawei.config.js';

/** A token is replaced once less than this is left of its hour. */
export const HUAWEI_TOKEN_REFRESH_MARGIN_MS = 5 * 60_000;

/** Getting an access token failed; `failure` says how the sends waiting for it fail. */
export class HuaweiAuthError extends AccessTokenError {
  override name = 'HuaweiAuthError';
}

/** The `retry` reason of an exchange that got no answer; `adapter_closed` once closed. */
export { transportReason };

/**
 * The client-credentials grant (reference/providers.md §3.2): a form POST of the client id and
 * secret, answered `{access_token, expires_in, token_type}`. Throws `HuaweiAuthError`: refused
 * credentials (4xx, e.g. `{"error":1101,"sub_error":20152,"error_description":"invalid client"}`)
 * are `creds`; 5xx, 429 and network faults `retry`.
 */
export async function fetchHuaweiAccessToken(
  settings: Pick<HuaweiSettings, 'clientId' | 'clientSecret' | 'authUrl'>,
  post: HttpPost,
  now: number,
): Promise<CachedAccessToken> {
  const answer = await postClientCredentials(
    settings,
    post,
    (reason) => new HuaweiAuthError('retry', reason, 'the Huawei OAuth server cannot be reached'),
  );
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
  throw new HuaweiAuthError(
    retry ? 'retry' : 'creds',
    code !== undefined && !retry ? `oauth_${code}` : `oauth_http_${answer.status}`,
    `the Huawei OAuth server answered ${answer.status}${description}`,
    retry ? parseRetryAfter(answer.headers['retry-after']?.toString(), now) : undefined,
  );
}

/** One app's access tokens, shared through `store` (see `clientCredentialsTokenKey`). */
export function createHuaweiAccessTokenSource(options: {
  settings: Pick<HuaweiSettings, 'clientId' | 'clientSecret' | 'authUrl'>;
  post: HttpPost;
  clock: Clock;
  store?: AccessTokenStore | undefined;
}): AccessTokenSource {
  return createClientCredentialsTokenSource({
    provider: 'huawei',
    credentials: options.settings,
    fetch: fetchHuaweiAccessToken,
    post: options.post,
    clock: options.clock,
    refreshMarginMs: HUAWEI_TOKEN_REFRESH_MARGIN_MS,
    store: options.store,
  });
}
