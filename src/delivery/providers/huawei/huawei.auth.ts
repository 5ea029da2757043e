import type { Clock } from '../../../clock.js';
import { parseRetryAfter } from '../retry-after.js';
import {
  type AccessTokenSource,
  type AccessTokenStore,
  type CachedAccessToken,
  createAccessTokenSource,
  secretDigest,
} from '../shared/access-tokens.js';
import { type HttpPost, HttpTransportError } from '../shared/http-client.js';
import type { HuaweiSettings } from './huawei.config.js';

/** A token is replaced once less than this is left of its hour. */
export const HUAWEI_TOKEN_REFRESH_MARGIN_MS = 5 * 60_000;

/** Getting an access token failed; `failure` says how the sends waiting for it fail. */
export class HuaweiAuthError extends Error {
  override name = 'HuaweiAuthError';
  constructor(
    readonly failure: 'creds' | 'retry',
    /** e.g. `oauth_1101`, `oauth_http_503`, `oauth_timeout`. */
    readonly reason: string,
    message: string,
    readonly retryAfterMs?: number | undefined,
  ) {
    super(message);
  }
}

/** The `retry` reason of an exchange that got no answer; `adapter_closed` once closed. */
export function transportReason(error: unknown): string {
  const reason = error instanceof HttpTransportError ? error.reason : 'network_error';
  return reason === 'closed' ? 'adapter_closed' : reason;
}

type OAuthAnswer = {
  access_token?: unknown;
  expires_in?: unknown;
  error?: unknown;
  sub_error?: unknown;
  error_description?: unknown;
};

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
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: settings.clientId,
    client_secret: settings.clientSecret,
  });
  const answer = await post(
    settings.authUrl,
    { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    form.toString(),
  ).catch((error: unknown) => {
    const reason = transportReason(error);
    throw new HuaweiAuthError(
      'retry',
      reason === 'adapter_closed' ? reason : `oauth_${reason}`,
      'the Huawei OAuth server cannot be reached',
    );
  });
  let parsed: OAuthAnswer = {};
  try {
    parsed = (JSON.parse(answer.body) as OAuthAnswer | null) ?? {};
  } catch {
    // a proxy's page: the status speaks
  }
  const token = parsed.access_token;
  if (answer.status === 200 && typeof token === 'string' && token !== '') {
    const expiresIn = Number(parsed.expires_in);
    const seconds = Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : 3600;
    return { token, expiresAt: now + seconds * 1000 };
  }
  const retry = answer.status >= 500 || answer.status === 429 || answer.status === 408 || answer.status < 300;
  const code =
    typeof parsed.error === 'number' || typeof parsed.error === 'string' ? parsed.error : undefined;
  const description =
    typeof parsed.error_description === 'string' ? `: ${parsed.error_description.slice(0, 200)}` : '';
  throw new HuaweiAuthError(
    retry ? 'retry' : 'creds',
    code !== undefined && !retry ? `oauth_${code}` : `oauth_http_${answer.status}`,
    `the Huawei OAuth server answered ${answer.status}${description}`,
    retry ? parseRetryAfter(answer.headers['retry-after']?.toString(), now) : undefined,
  );
}

/**
 * The store key of a client's tokens: client id, a digest of the secret (another secret for the
 * same client id, e.g. a mistyped one, must not borrow a token the right one obtained), and the
 * token endpoint.
 */
export function huaweiAccessTokenKey(
  settings: Pick<HuaweiSettings, 'clientId' | 'clientSecret' | 'authUrl'>,
) {
  return `huawei ${settings.clientId} ${secretDigest(settings.clientSecret)} ${settings.authUrl}`;
}

/** One app's access tokens, shared through `store` (see `huaweiAccessTokenKey`). */
export function createHuaweiAccessTokenSource(options: {
  settings: Pick<HuaweiSettings, 'clientId' | 'clientSecret' | 'authUrl'>;
  post: HttpPost;
  clock: Clock;
  store?: AccessTokenStore | undefined;
}): AccessTokenSource {
  const { settings, post, clock } = options;
  return createAccessTokenSource({
    key: huaweiAccessTokenKey(settings),
    fetch: () => fetchHuaweiAccessToken(settings, post, clock.now()),
    clock,
    refreshMarginMs: HUAWEI_TOKEN_REFRESH_MARGIN_MS,
    store: options.store,
  });
}
