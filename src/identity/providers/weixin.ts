import { createHash } from 'node:crypto';
import type { Clock } from '../../clock.js';
import type { IdentityConfig } from '../../config.js';
import { AppError } from '../../errors.js';
import type { IdentityVerifier, VerifiedIdentity, WeixinInput } from '../provider.js';
import {
  cleanDisplayName,
  jsonHeaders,
  type LoginProviderHttp,
  rejected,
  requestJson,
  stringField,
  unavailable,
} from '../provider-http.js';

type WeixinConfig = NonNullable<IdentityConfig['weixin']>;

/**
 * WeChat answers errors with HTTP 200 and `{errcode, errmsg}`. These mean that WeChat is busy or
 * refuses *our* app id/secret (a configuration problem, not the user's): 503, logged. Every
 * other code (40029 invalid code, 40163 code used, 42001/42003 expired, 40003 invalid openid,
 * 41001/41008 missing, 40001/40014 invalid token …) refuses what the client sent: 401.
 */
const notTheClientsFault = new Map<number, string>([
  [-1, 'system busy'],
  [40013, 'invalid appid (WEIXIN_APP_ID)'],
  [40125, 'invalid appsecret (WEIXIN_APP_SECRET)'],
  [41002, 'appid missing'],
  [41004, 'appsecret missing'],
  [40164, 'this server’s IP address is not on the app’s whitelist'],
  [45009, 'API rate limit reached'],
  [45011, 'API rate limit reached'],
]);

const openIdPattern = /^[A-Za-z0-9_-]{1,128}$/;
const cacheLimit = 10_000;

class WeixinError extends Error {
  override name = 'WeixinError';
  constructor(
    readonly errcode: number,
    errmsg: string,
  ) {
    super(`errcode ${errcode}: ${errmsg}`);
  }
}

/**
 * WeChat mobile-app login. `{code}` (recommended: the app secret stays on the server) is
 * exchanged at `sns/oauth2/access_token`; the manual's `{access_token, openid}` is checked with
 * `sns/auth`. Both read `sns/userinfo`. The identity is the unionid when WeChat gives one,
 * else `appid:openid`.
 *
 * A code is single use, and clients retry: the identity a code gave is kept for
 * `codeCacheSeconds`, so a retry logs in again instead of failing with 40163.
 */
export function createWeixinVerifier(deps: {
  config: WeixinConfig;
  http: LoginProviderHttp;
  clock: Clock;
}): IdentityVerifier<WeixinInput> {
  const { config, http, clock } = deps;
  const codeResults = new Map<string, { expiresAt: number; result: Promise<VerifiedIdentity> }>();

  async function call(path: string, params: Record<string, string>, field: string) {
    const url = `${config.apiUrl}${path}?${new URLSearchParams(params)}`;
    const { body } = await requestJson('weixin', () => http.get(url, jsonHeaders), path);
    const errcode = body.errcode;
    if (typeof errcode === 'number' && errcode !== 0) {
      const error = new WeixinError(errcode, String(body.errmsg ?? ''));
      const reason = notTheClientsFault.get(errcode);
      if (reason !== undefined) throw unavailable('weixin', `${path}: ${reason}`, error);
      throw new AppError('INVALID_PROVIDER_TOKEN', { field, cause: error });
    }
    return body;
  }

  function identityOf(openid: string, unionid: string | undefined, nickname: unknown): VerifiedIdentity {
    const scoped = `${config.appId}:${openid}`;
    return {
      provider: 'weixin',
      subject: unionid ?? scoped,
      formerSubjects: unionid === undefined ? [] : [scoped],
      displayName: cleanDisplayName(nickname),
      fallbackName: null,
      credentials: undefined,
    };
  }

  const validId = (value: string | undefined) =>
    value !== undefined && openIdPattern.test(value) ? value : undefined;

  async function exchangeCode(code: string): Promise<VerifiedIdentity> {
    const token = await call(
      '/sns/oauth2/access_token',
      { appid: config.appId, secret: config.appSecret, code, grant_type: 'authorization_code' },
      'code',
    );
    const accessToken = stringField(token, 'access_token');
    const openid = validId(stringField(token, 'openid'));
    if (accessToken === undefined || openid === undefined) {
      throw unavailable('weixin', 'sns/oauth2/access_token answered without access_token or openid');
    }
    let unionid = validId(stringField(token, 'unionid'));
    let nickname: unknown = null;
    // The profile is a hint: the code exchange already proved who this is.
    try {
      const info = await call('/sns/userinfo', { access_token: accessToken, openid }, 'code');
      if (info.openid === openid) {
        unionid ??= validId(stringField(info, 'unionid'));
        nickname = info.nickname;
      }
    } catch {
      // Keep what the exchange gave.
    }
    return identityOf(openid, unionid, nickname);
  }

  async function checkAccessToken(accessToken: string, openid: string): Promise<VerifiedIdentity> {
    if (!openIdPattern.test(openid)) throw rejected('openid', 'not an openid');
    await call('/sns/auth', { access_token: accessToken, openid }, 'access_token');
    const info = await call('/sns/userinfo', { access_token: accessToken, openid }, 'access_token');
    if (info.openid !== openid) throw rejected('openid', 'sns/userinfo names another openid');
    return identityOf(openid, validId(stringField(info, 'unionid')), info.nickname);
  }

  function rememberCode(code: string): Promise<VerifiedIdentity> {
    const now = clock.now();
    const key = createHash('sha256').update(code).digest('base64url');
    const cached = codeResults.get(key);
    if (cached !== undefined && cached.expiresAt > now) return cached.result;
    for (const [entryKey, entry] of codeResults) {
      if (entry.expiresAt > now && codeResults.size < cacheLimit) break;
      codeResults.delete(entryKey);
    }
    const result = exchangeCode(code);
    const entry = { expiresAt: now + config.codeCacheSeconds * 1000, result };
    if (config.codeCacheSeconds > 0) codeResults.set(key, entry);
    // Only successes are kept: a failed exchange may be retried (a timeout, a busy WeChat).
    result.catch(() => {
      if (codeResults.get(key) === entry) codeResults.delete(key);
    });
    return result;
  }

  return {
    async verify(input) {
      if (input.code !== undefined) return rememberCode(input.code);
      if (input.access_token === undefined) throw new AppError('FIELD_MISSING', { field: 'code' });
      if (input.openid === undefined) throw new AppError('FIELD_MISSING', { field: 'openid' });
      return checkAccessToken(input.access_token, input.openid);
    },
  };
}
