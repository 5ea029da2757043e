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
export function createWeixinVerifier(deps: WeixinDeps): IdentityVerifier<WeixinInput> {
  return new WeixinVerifier(deps);
}

interface WeixinDeps {
  config: WeixinConfig;
  http: LoginProviderHttp;
  clock: Clock;
}

const validId = (value: string | undefined) =>
  value !== undefined && openIdPattern.test(value) ? value : undefined;

class WeixinVerifier implements IdentityVerifier<WeixinInput> {
  private readonly codeResults = new Map<string, { expiresAt: number; result: Promise<VerifiedIdentity> }>();

  constructor(private readonly deps: WeixinDeps) {}

  async verify(input: WeixinInput): Promise<VerifiedIdentity> {
    if (input.code !== undefined) return this.rememberCode(input.code);
    if (input.access_token === undefined) throw new AppError('FIELD_MISSING', { field: 'code' });
    if (input.openid === undefined) throw new AppError('FIELD_MISSING', { field: 'openid' });
    return this.checkAccessToken(input.access_token, input.openid);
  }

  private async call(path: string, params: Record<string, string>, field: string) {
    const url = `${this.deps.config.apiUrl}${path}?${new URLSearchParams(params)}`;
    const { body } = await requestJson('weixin', () => this.deps.http.get(url, jsonHeaders), path);
    const errcode = body.errcode;
    if (typeof errcode === 'number' && errcode !== 0) {
      const error = new WeixinError(errcode, String(body.errmsg ?? ''));
      const reason = notTheClientsFault.get(errcode);
      if (reason !== undefined) throw unavailable('weixin', `${path}: ${reason}`, error);
      throw new AppError('INVALID_PROVIDER_TOKEN', { field, cause: error });
    }
    return body;
  }

  private identityOf(openid: string, unionid: string | undefined, nickname: unknown): VerifiedIdentity {
    const scoped = `${this.deps.config.appId}:${openid}`;
    return {
      provider: 'weixin',
      subject: unionid ?? scoped,
      formerSubjects: unionid === undefined ? [] : [scoped],
      displayName: cleanDisplayName(nickname),
      fallbackName: null,
      credentials: undefined,
    };
  }

  private async exchangeCode(code: string): Promise<VerifiedIdentity> {
    const { config } = this.deps;
    const token = await this.call(
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
      const info = await this.call('/sns/userinfo', { access_token: accessToken, openid }, 'code');
      if (info.openid === openid) {
        unionid ??= validId(stringField(info, 'unionid'));
        nickname = info.nickname;
      }
    } catch {
      // Keep what the exchange gave.
    }
    return this.identityOf(openid, unionid, nickname);
  }

  private async checkAccessToken(accessToken: string, openid: string): Promise<VerifiedIdentity> {
    if (!openIdPattern.test(openid)) throw rejected('openid', 'not an openid');
    await this.call('/sns/auth', { access_token: accessToken, openid }, 'access_token');
    const info = await this.call('/sns/userinfo', { access_token: accessToken, openid }, 'access_token');
    if (info.openid !== openid) throw rejected('openid', 'sns/userinfo names another openid');
    return this.identityOf(openid, validId(stringField(info, 'unionid')), info.nickname);
  }

  private rememberCode(code: string): Promise<VerifiedIdentity> {
    const { codeResults } = this;
    const now = this.deps.clock.now();
    const key = createHash('sha256').update(code).digest('base64url');
    const cached = codeResults.get(key);
    if (cached !== undefined && cached.expiresAt > now) return cached.result;
    for (const [entryKey, entry] of codeResults) {
      if (entry.expiresAt > now && codeResults.size < cacheLimit) break;
      codeResults.delete(entryKey);
    }
    const result = this.exchangeCode(code);
    const entry = { expiresAt: now + this.deps.config.codeCacheSeconds * 1000, result };
    if (this.deps.config.codeCacheSeconds > 0) codeResults.set(key, entry);
    // Only successes are kept: a failed exchange may be retried (a timeout, a busy WeChat).
    result.catch(() => {
      if (codeResults.get(key) === entry) codeResults.delete(key);
    });
    return result;
  }
}
