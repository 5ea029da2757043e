/**
 * A fake WeChat open platform (微信开放平台) for mobile-app login: `sns/oauth2/access_token`,
 * `sns/auth` and `sns/userinfo`. Like WeChat, it answers errors with HTTP 200 and
 * `{errcode, errmsg}`; codes are single use (40163 on reuse).
 */
import { randomBytes } from 'node:crypto';
import { type FakeReply, HttpFake } from './http-fake.js';

export interface WeixinUser {
  openid: string;
  /** Absent when the app is not bound to an open-platform account. */
  unionid?: string;
  nickname: string;
}

const rid = () => `rid: ${randomBytes(4).toString('hex')}-${randomBytes(4).toString('hex')}`;
const error = (errcode: number, errmsg: string): FakeReply => ({
  json: { errcode, errmsg: `${errmsg}, ${rid()}` },
});

export class FakeWeixin {
  appId = 'wx0123456789abcdef';
  appSecret = 'weixin-app-secret-0123456789abcdef';
  private readonly codes = new Map<string, { user: WeixinUser; used: boolean }>();
  private readonly tokens = new Map<string, { user: WeixinUser; expiresAt: number }>();

  private constructor(
    readonly http: HttpFake,
    private readonly now: () => number,
  ) {}

  static async start(now: () => number): Promise<FakeWeixin> {
    let fake: FakeWeixin | undefined;
    const http = await HttpFake.start((request) => {
      if (fake === undefined) return { status: 503 };
      return fake.answer(request.path, request.query);
    });
    fake = new FakeWeixin(http, now);
    return fake;
  }

  get url(): string {
    return this.http.url;
  }

  /** A code the WeChat SDK would hand the app after the user agreed. */
  issueCode(user: WeixinUser): string {
    const code = `0${randomBytes(15).toString('hex')}`;
    this.codes.set(code, { user, used: false });
    return code;
  }

  /** An access token as the manual's clients send it (obtained by the app itself). */
  issueAccessToken(user: WeixinUser, lifetimeSeconds = 7200): string {
    const token = `wxat_${randomBytes(24).toString('base64url')}`;
    this.tokens.set(token, { user, expiresAt: this.now() + lifetimeSeconds * 1000 });
    return token;
  }

  private checkToken(query: URLSearchParams): FakeReply | WeixinUser {
    const token = query.get('access_token');
    const openid = query.get('openid');
    if (!token) return error(41001, 'access_token missing');
    if (!openid) return error(41009, 'missing openid');
    const entry = this.tokens.get(token);
    if (entry === undefined) return error(40001, 'invalid credential, access_token is invalid or not latest');
    if (entry.expiresAt <= this.now()) return error(42001, 'access_token expired');
    if (entry.user.openid !== openid) return error(40003, 'invalid openid');
    return entry.user;
  }

  private answer(path: string, query: URLSearchParams): FakeReply {
    switch (path) {
      case '/sns/oauth2/access_token': {
        if (query.get('appid') !== this.appId) return error(40013, 'invalid appid');
        if (query.get('secret') !== this.appSecret) return error(40125, 'invalid appsecret');
        if (query.get('grant_type') !== 'authorization_code') return error(40002, 'invalid grant_type');
        const code = query.get('code');
        if (!code) return error(41008, 'missing code');
        const entry = this.codes.get(code);
        if (entry === undefined) return error(40029, 'invalid code');
        if (entry.used) return error(40163, 'code been used');
        entry.used = true;
        const accessToken = this.issueAccessToken(entry.user);
        return {
          json: {
            access_token: accessToken,
            expires_in: 7200,
            refresh_token: `wxrt_${randomBytes(24).toString('base64url')}`,
            openid: entry.user.openid,
            scope: 'snsapi_userinfo',
            ...(entry.user.unionid === undefined ? {} : { unionid: entry.user.unionid }),
          },
        };
      }
      case '/sns/auth': {
        const checked = this.checkToken(query);
        return 'openid' in checked ? { json: { errcode: 0, errmsg: 'ok' } } : checked;
      }
      case '/sns/userinfo': {
        const checked = this.checkToken(query);
        if (!('openid' in checked)) return checked;
        return {
          json: {
            openid: checked.openid,
            nickname: checked.nickname,
            sex: 0,
            language: '',
            city: '',
            province: '',
            country: '',
            headimgurl: '',
            privilege: [],
            ...(checked.unionid === undefined ? {} : { unionid: checked.unionid }),
          },
        };
      }
      default:
        return { status: 404, text: '' };
    }
  }

  close(): Promise<void> {
    return this.http.close();
  }
}
