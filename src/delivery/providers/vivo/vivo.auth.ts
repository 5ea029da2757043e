import { createHash } from 'node:crypto';
import type { HttpPost } from '../../../net/http-client.js';
import type { CachedAccessToken } from '../shared/access-tokens.js';
import { AccessTokenError } from '../shared/errors.js';
import { postForToken } from '../shared/provider-http.js';
import type { VivoSettings } from './vivo.config.js';
import { classifyVivoHttpAnswer, parseVivoAnswer } from './vivo.errors.js';

/** An authToken lives one day … */
export const VIVO_AUTH_TOKEN_LIFETIME_MS = 24 * 3_600_000;
/** … and is replaced after an hour, as vivo advises (tokens of one app coexist). */
export const VIVO_AUTH_TOKEN_REFRESH_MARGIN_MS = 23 * 3_600_000;

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

/**
 * `POST /message/auth` (reference/providers.md §5.2) → a token valid one day. Throws
 * `AccessTokenError`: `retry` when vivo cannot be reached, is busy or over a quota; `creds` for
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
  const answer = await postForToken(post, 'auth_', {
    url: settings.authUrl,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body,
  });
  const parsed = parseVivoAnswer(answer.body);
  if (answer.status === 200 && parsed.result === 0 && parsed.authToken !== undefined) {
    return { token: parsed.authToken, expiresAt: now + VIVO_AUTH_TOKEN_LIFETIME_MS };
  }
  const failure = classifyVivoHttpAnswer(answer, now);
  const described = parsed.desc === undefined ? '' : `: ${parsed.desc}`;
  const reason = `auth_${failure.reason}`;
  if (failure.failure === 'retry') {
    throw new AccessTokenError({ ...failure, reason }, `vivo auth answered ${failure.reason}${described}`);
  }
  throw new AccessTokenError(
    { ok: false, failure: 'creds', reason },
    `vivo refused the app's App ID, AppKey or AppSecret (${failure.reason})${described}`,
  );
}
