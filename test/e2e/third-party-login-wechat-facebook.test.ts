import { describe, expect, it } from 'vitest';
import { createTestApp, json, testDialects } from '../helpers/app.js';
import {
  clock,
  counts,
  expectLoginBody,
  expectRefused,
  fakes,
  id,
  identityRow,
  login,
  profile,
  t,
  useLoginTestbed,
} from '../helpers/third-party-login.js';

describe.each(testDialects())('third-party login on %s', (dialect) => {
  useLoginTestbed(dialect);

  describe('WeChat', () => {
    it('creates a wx_ user on the first code login and finds it on the next', async () => {
      const user = { openid: id('o'), unionid: id('u'), nickname: '门铃\u0000 owner' };
      const before = await counts();
      const first = expectLoginBody(await login('weixin', { code: fakes.weixin.issueCode(user) }));
      expect(await counts()).toEqual({
        users: before.users + 1,
        identities: before.identities + 1,
        sessions: before.sessions + 1,
      });
      const me = json<{ username: string; email: null }>(await profile(first.token));
      expect(me.username).toMatch(/^wx_[0-9a-f]{12}$/);
      expect(me.email).toBeNull();
      const row = await identityRow('weixin', user.unionid);
      expect(row).toMatchObject({ user_id: first.id, display_name: '门铃 owner', credentials: null });
      const userRow = await t.database.handle.db
        .selectFrom('users')
        .select('password_hash')
        .where('id', '=', first.id)
        .executeTakeFirstOrThrow();
      expect(userRow.password_hash).toBeNull();

      const second = expectLoginBody(await login('weixin', { code: fakes.weixin.issueCode(user) }));
      expect(second.id).toBe(first.id);
      expect(second.token).not.toBe(first.token);
      // No usable password: the password login refuses the account.
      const byPassword = await t.app.inject({
        method: 'POST',
        url: '/v1/api/user/login',
        payload: { username: me.username, password: 'anything at all' },
      });
      expect(byPassword.statusCode).toBe(401);
    });

    it('answers a retried code with a new session of the same user instead of 40163, until the cache expires', async () => {
      const user = { openid: id('o'), unionid: id('u'), nickname: 'retry' };
      const code = fakes.weixin.issueCode(user);
      const exchanges = () => fakes.weixin.http.callsTo('/sns/oauth2/access_token').length;
      const before = exchanges();
      const [first, second] = await Promise.all([login('weixin', { code }), login('weixin', { code })]);
      const third = await login('weixin', { code });
      const bodies = [first, second, third].map(expectLoginBody);
      expect(new Set(bodies.map((body) => body.id)).size).toBe(1);
      expect(new Set(bodies.map((body) => body.token)).size).toBe(3);
      for (const body of bodies) expect((await profile(body.token)).statusCode).toBe(200);
      expect(exchanges()).toBe(before + 1);

      clock.advance(301_000);
      await expectRefused(() => login('weixin', { code }), 401, 'INVALID_PROVIDER_TOKEN', 'invalid code');
      expect(exchanges()).toBe(before + 2);
    });

    it('accepts the manual’s {access_token, openid} for the same person (unionid)', async () => {
      const user = { openid: id('o'), unionid: id('u'), nickname: 'manual' };
      const byCode = expectLoginBody(await login('weixin', { code: fakes.weixin.issueCode(user) }));
      const byToken = expectLoginBody(
        await login('weixin', {
          access_token: fakes.weixin.issueAccessToken(user),
          openid: user.openid,
          apikey: 'x',
        }),
      );
      expect(byToken.id).toBe(byCode.id);
      const calls = fakes.weixin.http.calls.slice(-2).map((call) => call.path);
      expect(calls).toEqual(['/sns/auth', '/sns/userinfo']);
    });

    it('keys an identity without unionid on appid:openid and upgrades it when WeChat gives one', async () => {
      const openid = id('o');
      const first = expectLoginBody(
        await login('weixin', { code: fakes.weixin.issueCode({ openid, nickname: 'no union' }) }),
      );
      expect(await identityRow('weixin', `${fakes.weixin.appId}:${openid}`)).toMatchObject({
        user_id: first.id,
      });
      const unionid = id('u');
      const second = expectLoginBody(
        await login('weixin', { code: fakes.weixin.issueCode({ openid, unionid, nickname: 'bound' }) }),
      );
      expect(second.id).toBe(first.id);
      expect(await identityRow('weixin', unionid)).toMatchObject({
        user_id: first.id,
        display_name: 'bound',
      });
      expect(await identityRow('weixin', `${fakes.weixin.appId}:${openid}`)).toBeUndefined();
    });

    it('maps WeChat’s errcodes (HTTP 200) to 401 and creates nothing', async () => {
      const user = { openid: id('o'), unionid: id('u'), nickname: 'x' };
      await expectRefused(
        () => login('weixin', { code: 'no-such-code' }),
        401,
        'INVALID_PROVIDER_TOKEN',
        'invalid code',
      );
      const expired = fakes.weixin.issueAccessToken(user, 60);
      clock.advance(61_000);
      await expectRefused(
        () => login('weixin', { access_token: expired, openid: user.openid }),
        401,
        'INVALID_PROVIDER_TOKEN',
        'invalid access_token',
      );
      const token = fakes.weixin.issueAccessToken(user);
      await expectRefused(
        () => login('weixin', { access_token: token, openid: id('o') }),
        401,
        'INVALID_PROVIDER_TOKEN',
        'invalid access_token',
      );
      await expectRefused(
        () => login('weixin', { access_token: 'forged', openid: user.openid }),
        401,
        'INVALID_PROVIDER_TOKEN',
      );
    });

    it('asks for the missing field', async () => {
      await expectRefused(() => login('weixin', {}), 400, 'FIELD_MISSING', 'undefined code');
      await expectRefused(
        () => login('weixin', { access_token: 'abc' }),
        400,
        'FIELD_MISSING',
        'undefined openid',
      );
      await expectRefused(() => login('weixin', { openid: 'abc' }), 400, 'FIELD_MISSING', 'undefined code');
    });

    it('answers 503 when WeChat is down, slow, or refuses our app secret — never an account', async () => {
      const user = { openid: id('o'), unionid: id('u'), nickname: 'x' };
      fakes.weixin.http.mode = 'down';
      await expectRefused(
        () => login('weixin', { code: fakes.weixin.issueCode(user) }),
        503,
        'PROVIDER_UNAVAILABLE',
        'weixin is unavailable',
      );
      // An answer that never comes (within the test's time): only Bellhop's own timeout
      // (LOGIN_PROVIDER_TIMEOUT_MS) can end the login, and it ends as unavailable.
      fakes.weixin.http.mode = 'slow';
      const slowMs = fakes.weixin.http.slowMs;
      fakes.weixin.http.slowMs = 3_600_000;
      try {
        await expectRefused(
          () => login('weixin', { code: fakes.weixin.issueCode(user) }),
          503,
          'PROVIDER_UNAVAILABLE',
        );
      } finally {
        fakes.weixin.http.slowMs = slowMs;
      }
      fakes.weixin.http.mode = 'up';
      const secret = fakes.weixin.appSecret;
      fakes.weixin.appSecret = 'rotated';
      try {
        await expectRefused(
          () => login('weixin', { code: fakes.weixin.issueCode(user) }),
          503,
          'PROVIDER_UNAVAILABLE',
        );
      } finally {
        fakes.weixin.appSecret = secret;
      }
      // The code that failed for a transient reason was not remembered: it works now.
      expectLoginBody(await login('weixin', { code: fakes.weixin.issueCode(user) }));
    });
  });

  describe('Facebook', () => {
    it('creates an fb_ user and finds it again', async () => {
      const userId = String(10_000_000 + Math.floor(Math.random() * 1e7));
      const first = expectLoginBody(
        await login('facebook', { access_token: fakes.facebook.issueToken({ userId, name: 'Front Door' }) }),
      );
      expect(json<{ username: string }>(await profile(first.token)).username).toMatch(/^fb_[0-9a-f]{12}$/);
      const second = expectLoginBody(
        await login('facebook', { access_token: fakes.facebook.issueToken({ userId, name: 'Front Door' }) }),
      );
      expect(second.id).toBe(first.id);
      expect(await identityRow('facebook', userId)).toMatchObject({ display_name: 'Front Door' });
      const me = fakes.facebook.http.callsTo('/me').at(-1);
      expect(me?.query.get('appsecret_proof')).toMatch(/^[0-9a-f]{64}$/);
    });

    it('refuses tokens of another app, expired and unknown tokens with 401; 503 when Facebook is down', async () => {
      const userId = '99887766';
      await expectRefused(
        () =>
          login('facebook', { access_token: fakes.facebook.issueToken({ userId, name: 'x', appId: '42' }) }),
        401,
        'INVALID_PROVIDER_TOKEN',
        'invalid access_token',
      );
      await expectRefused(
        () =>
          login('facebook', { access_token: fakes.facebook.issueToken({ userId, name: 'x', valid: false }) }),
        401,
        'INVALID_PROVIDER_TOKEN',
      );
      await expectRefused(
        () => login('facebook', { access_token: 'EAABgarbage' }),
        401,
        'INVALID_PROVIDER_TOKEN',
      );
      fakes.facebook.http.mode = 'down';
      await expectRefused(
        () => login('facebook', { access_token: fakes.facebook.issueToken({ userId, name: 'x' }) }),
        503,
        'PROVIDER_UNAVAILABLE',
        'facebook is unavailable',
      );
    });
  });

  it('never writes provider secrets or tokens to the log', async () => {
    const lines: string[] = [];
    const logged = await createTestApp(
      dialect,
      { ...fakes.environment, LOG_LEVEL: 'debug' },
      { clock, logStream: { write: (line) => lines.push(line) } },
    );
    try {
      const user = { openid: id('o'), unionid: id('u'), nickname: 'log' };
      const code = fakes.weixin.issueCode(user);
      const appleToken = fakes.apple.identityToken({ sub: id('006.') });
      const facebookToken = fakes.facebook.issueToken({ userId: '5550001', name: 'x', appId: '42' });
      const appleCode = fakes.apple.issueCode('someone-else');
      const sent = [
        ['weixin', { code }],
        ['weixin', { code: 'bad-code' }],
        ['facebook', { access_token: facebookToken }],
        ['apple', { identity_token: appleToken, authorization_code: appleCode }],
      ] as const;
      for (const [provider, payload] of sent) {
        await logged.app.inject({ method: 'POST', url: `/v1/api/user/${provider}/app/login`, payload });
      }
      const output = lines.join('');
      expect(output).toContain('third-party login refused');
      for (const secret of [
        fakes.weixin.appSecret,
        fakes.facebook.appSecret,
        'BEGIN PRIVATE KEY',
        code,
        appleToken,
        appleCode,
        facebookToken,
      ]) {
        expect(output).not.toContain(secret);
      }
    } finally {
      await logged.close();
    }
  });
});
