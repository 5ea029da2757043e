import { createHash } from 'node:crypto';
import type { Clock } from '../../../clock.js';
import {
  type AccessTokenSource,
  type AccessTokenStore,
  type CachedAccessToken,
  createAccessTokenSource,
} from '../shared/access-tokens.js';
import { type HttpPost, HttpTransportError } from '../shared/http-client.js';
import type { VivoSettings } from './vivo.config.js';
import { classifyVivoAnswer, parseVivoAnswer } from './vivo.errors.js';

/** An authToken lives one day … */
export const VIVO_AUTH_TOKEN_LIFETIME_MS = 24 * 3_600_000;
/** … and is replaced after an hour, as vivo advises (tokens of one app coexist). */
export const VIVO_AUTH_REFRESH_MARGIN_MS = 23 * 3_600_000;

/** `sign` of `/message/auth`: lowercase hex MD5 of appId + appKey + timestamp + appSecret. */
export function vivoSign(appId: string, appKey: string, timestamp: number, appSecret: string): string {
  return createHash('md5').update(`${appId}${appKey}${timestamp}${appSecret}`, 'utf8').digest('hex');
}

/**
 * The store key of an app's authTokens. It names the key and secret by a digest (never the
 * secret itself), so settings with a wrong secret never borrow a token the right one got.
 */
export function vivoAuthTokenKey(
  settings: Pick<VivoSettings, 'appId' | 'appKey' | 'appSecret' | 'authUrl'>,
): string {
  const credential = createHash('sha256')
    .update(`${settings.appKey}\u0000${settings.appSecret}`)
    .digest('base64url')
    .slice(0, 16);
  return `vivo ${settings.appId} ${credential} ${settings.authUrl}`;
}

/** Getting an authToken failed; `failure` says how the sends waiting for it fail. */
export class VivoAuthError extends Error {
  override name = 'VivoAuthError';
  constructor(
    readonly failure: 'creds' | 'retry',
    /** e.g. `auth_vivo_10000`, `auth_HTTP_503`, `auth_network_error`. */
    readonly reason: string,
    message: string,
    readonly retryAfterMs?: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * `POST /message/auth` (reference/providers.md §5.2) → a token valid one day. Throws
 * `VivoAuthError`: `retry` when vivo cannot be reached, is busy or over a quota; `creds` for
 * every refusal (a wrong AppKey or AppSecret signs wrongly; a clock ten minutes off too).
 */
export async function fetchVivoAuthToken(
  settings: VivoSettings,
  post: HttpPost,
  now: number,
): Promise<CachedAccessToken> {
  const body = JSON.stringify({
    appId: settings.appId,
    appKey: settings.appKey,
    timestamp: now,
    sign: vivoSign(settings.appId, settings.appKey, now, settings.appSecret),
  });
  let answer: Awaited<ReturnType<HttpPost>>;
  try {
    answer = await post(settings.authUrl, { 'content-type': 'application/json; charset=utf-8' }, body);
  } catch (error) {
    const transport = error instanceof HttpTransportError ? error.reason : 'network_error';
    const reason = transport === 'closed' ? 'adapter_closed' : `auth_${transport}`;
    const detail = error instanceof Error ? error.message : String(error);
    throw new VivoAuthError('retry', reason, `vivo auth unreachable: ${detail}`, undefined, { cause: error });
  }
  const parsed = parseVivoAnswer(answer.body);
  if (answer.status === 200 && parsed.result === 0 && parsed.authToken !== undefined) {
    return { token: parsed.authToken, expiresAt: now + VIVO_AUTH_TOKEN_LIFETIME_MS };
  }
  const failure = classifyVivoAnswer(
    { status: answer.status, body: answer.body, retryAfter: headerValue(answer.headers['retry-after']) },
    now,
  );
  const described = parsed.desc === undefined ? '' : `: ${parsed.desc}`;
  if (failure.failure === 'retry') {
    throw new VivoAuthError(
      'retry',
      `auth_${failure.reason}`,
      `vivo auth answered ${failure.reason}${described}`,
      failure.retryAfterMs,
    );
  }
  throw new VivoAuthError(
    'creds',
    `auth_${failure.reason}`,
    `vivo refused the app's App ID, AppKey or AppSecret (${failure.reason})${described}`,
  );
}

export interface VivoAuthTokenOptions {
  settings: VivoSettings;
  post: HttpPost;
  clock: Clock;
  store?: AccessTokenStore | undefined;
}

/** The app's authTokens: cached (and shared through the store), one request however many wait. */
export function createVivoAuthTokenSource(options: VivoAuthTokenOptions): AccessTokenSource {
  const { settings, post, clock } = options;
  return createAccessTokenSource({
    key: vivoAuthTokenKey(settings),
    fetch: () => fetchVivoAuthToken(settings, post, clock.now()),
    clock,
    refreshMarginMs: VIVO_AUTH_REFRESH_MARGIN_MS,
    store: options.store,
  });
}
