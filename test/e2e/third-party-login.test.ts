import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeGoogle } from '../fakes/google-server.js';
import { type LoginProviderFakes, startLoginProviderFakes } from '../fakes/login-providers.js';
import { newSigningKey } from '../fakes/oidc-keys.js';
import { createTestApp, json, type LoginBody, type TestApp, testDialects } from '../helpers/app.js';
import { ManualClock } from '../helpers/clock.js';
import { assertErrorResponse } from '../helpers/error-contract.js';

const id = (prefix: string) => `${prefix}${randomBytes(8).toString('hex')}`;

describe.each(testDialects())('third-party login on %s', (dialect) => {
  let t: TestApp;
  let fakes: LoginProviderFakes;
  const clock = new ManualClock();

  beforeAll(async () => {
    fakes = await startLoginProviderFakes(() => clock.now());
    t = await createTestApp(dialect, fakes.environment, { clock });
  });
  afterAll(async () => {
    await t.close();
    await fakes.close();
  });
  beforeEach(() => {
    for (const fake of [fakes.weixin.http, fakes.facebook.http, fakes.apple.http, fakes.google.http]) {
      fake.mode = 'up';
    }
  });

  const login = (provider: string, payload: Record<string, unknown>) =>
    t.app.inject({ method: 'POST', url: `/v1/api/user/${provider}/app/login`, payload });
  const counts = async () => {
    const db = t.database.handle.db;
    const users = await db
      .selectFrom('users')
      .select(db.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const identities = await db
      .selectFrom('identities')
      .select(db.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const sessions = await db
      .selectFrom('sessions')
      .select(db.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return { users: Number(users.n), identities: Number(identities.n), sessions: Number(sessions.n) };
  };
  const profile = (token: string) => t.app.inject({ method: 'GET', url: '/v1/api/user', headers: { token } });
  const identityRow = (provider: string, subject: string) =>
    t.database.handle.db
      .selectFrom('identities')
      .selectAll()
      .where('provider', '=', provider as 'weixin')
      .where('subject', '=', subject)
      .executeTakeFirst();

  /** A refused login: the status and code, a catalogue body, and nothing written. */
  async function expectRefused(
    send: () => ReturnType<typeof login>,
    status: number,
    code: string,
    message?: string,
  ) {
    const before = await counts();
    const response = await send();
    expect(response.statusCode, response.body).toBe(status);
    const body = assertErrorResponse(response);
    expect(body.code).toBe(code);
    if (message !== undefined) expect(body.message).toBe(message);
    expect(await counts()).toEqual(before);
    return body;
  }

  function expectLoginBody(response: Awaited<ReturnType<typeof login>>): LoginBody {
    expect(response.statusCode, response.body).toBe(201);
    const body = json<LoginBody>(response);
    expect(Object.keys(body).sort()).toEqual(['expires_in', 'id', 'message', 'reflash_key', 'time', 'token']);
    expect(body).toMatchObject({ message: 'success', expires_in: 30 * 24 * 3600 });
    expect(body.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(body.time).toBe(Math.floor(clock.now() / 1000) + 30 * 24 * 3600);
    return body;
  }

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

  describe('Sign in with Apple', () => {
    it('creates an apple_ user, exchanges the code with a valid client secret and keeps the refresh token sealed', async () => {
      const sub = id('001234.');
      const nonce = id('n');
      const { createHash } = await import('node:crypto');
      const identityToken = fakes.apple.identityToken({
        sub,
        email: 'x@privaterelay.appleid.com',
        nonce: createHash('sha256').update(nonce).digest('hex'),
        nonce_supported: true,
      });
      const response = await login('apple', {
        identity_token: identityToken,
        authorization_code: fakes.apple.issueCode(sub),
        nonce,
        full_name: 'Ada Lovelace',
      });
      const body = expectLoginBody(response);
      expect(fakes.apple.lastRejection).toBeUndefined();
      expect(json<{ username: string }>(await profile(body.token)).username).toMatch(/^apple_[0-9a-f]{12}$/);
      const row = await identityRow('apple', sub);
      expect(row).toMatchObject({ user_id: body.id, display_name: 'Ada Lovelace' });
      const [refreshToken] = [...fakes.apple.refreshTokens].find(([, entry]) => entry.sub === sub) ?? [];
      expect(refreshToken).toBeDefined();
      expect(row?.credentials).toMatch(/^v1\./);
      expect(row?.credentials).not.toContain(refreshToken);

      // A retry whose code Apple refuses (already used) still logs in.
      const again = await login('apple', {
        identity_token: identityToken,
        authorization_code: fakes.apple.issueCode(sub).replace(/^c/, 'x'),
        nonce,
      });
      expect(expectLoginBody(again).id).toBe(body.id);
      expect((await identityRow('apple', sub))?.display_name).toBe('Ada Lovelace');
    });

    it('accepts both Apple issuers and the Services ID audience, and a token expired within the leeway', async () => {
      const sub = id('001.');
      const first = expectLoginBody(
        await login('apple', {
          identity_token: fakes.apple.identityToken({
            sub,
            iss: 'https://account.apple.com',
            aud: fakes.apple.servicesId,
          }),
        }),
      );
      const now = Math.floor(clock.now() / 1000);
      const second = expectLoginBody(
        await login('apple', {
          identity_token: fakes.apple.identityToken({ sub, iat: now - 640, exp: now - 30 }),
        }),
      );
      expect(second.id).toBe(first.id);
    });

    it('refuses forged, misaddressed, expired and malformed identity tokens with 401 and creates nothing', async () => {
      const sub = id('002.');
      const now = Math.floor(clock.now() / 1000);
      const apple = fakes.apple;
      const stranger = newSigningKey(apple.keys.published[0]?.kid ?? '');
      const cases: Array<[string, string]> = [
        ['a forged signature (same kid, another key)', apple.identityToken({ sub }, { key: stranger })],
        [
          'a tampered payload',
          (() => {
            const [h, , s] = apple.identityToken({ sub }).split('.');
            const payload = Buffer.from(
              JSON.stringify({
                iss: 'https://appleid.apple.com',
                aud: apple.bundleId,
                sub: 'victim',
                exp: now + 600,
              }),
            ).toString('base64url');
            return `${h}.${payload}.${s}`;
          })(),
        ],
        ['a wrong audience', apple.identityToken({ sub, aud: 'com.attacker.app' })],
        ['a wrong issuer', apple.identityToken({ sub, iss: 'https://evil.example.com' })],
        ['an expired token', apple.identityToken({ sub, iat: now - 1200, exp: now - 120 })],
        ['a token issued in the future', apple.identityToken({ sub, iat: now + 600, exp: now + 1200 })],
        [
          'alg none',
          apple.keys.unsigned({ iss: 'https://appleid.apple.com', aud: apple.bundleId, sub, exp: now + 600 }),
        ],
        [
          'HS256 keyed with the public key',
          apple.keys.hmacWithPublicKey({
            iss: 'https://appleid.apple.com',
            aud: apple.bundleId,
            sub,
            exp: now + 600,
          }),
        ],
        ['ES256 declared', apple.identityToken({ sub }, { alg: 'ES256' })],
        ['no kid', apple.identityToken({ sub }, { kid: null })],
        ['no sub', apple.identityToken({ sub: '' })],
        ['not a JWT', 'not-a-jwt'],
        ['two parts', 'abc.def'],
        ['a non-JSON header', 'bm90IGpzb24.e30.c2ln'],
      ];
      for (const [label, token] of cases) {
        const body = await expectRefused(
          () => login('apple', { identity_token: token }),
          401,
          'INVALID_PROVIDER_TOKEN',
        );
        expect(body.message, label).toBe('invalid identity_token');
      }
    });

    it('checks the nonce: sha256(raw) must match, and a token with a nonce needs one', async () => {
      const sub = id('003.');
      const claim = 'a'.repeat(64);
      const token = fakes.apple.identityToken({ sub, nonce: claim, nonce_supported: true });
      await expectRefused(
        () => login('apple', { identity_token: token, nonce: 'wrong' }),
        401,
        'INVALID_PROVIDER_TOKEN',
        'invalid nonce',
      );
      await expectRefused(
        () => login('apple', { identity_token: token }),
        401,
        'INVALID_PROVIDER_TOKEN',
        'invalid nonce',
      );
      // The raw nonce itself in the claim is not accepted: the claim is its hash.
      await expectRefused(
        () =>
          login('apple', {
            identity_token: fakes.apple.identityToken({ sub, nonce: 'raw-nonce' }),
            nonce: 'raw-nonce',
          }),
        401,
        'INVALID_PROVIDER_TOKEN',
        'invalid nonce',
      );
    });

    it('refetches the key set once for an unknown kid, no more often than the floor, and follows a rotation', async () => {
      const keys = () => fakes.apple.http.callsTo('/auth/keys').length;
      const sub = id('004.');
      expectLoginBody(await login('apple', { identity_token: fakes.apple.identityToken({ sub }) }));
      clock.advance(61_000);
      const before = keys();
      const unknown = newSigningKey('apple-key-unknown');
      const forged = () => fakes.apple.identityToken({ sub }, { key: unknown });
      await expectRefused(() => login('apple', { identity_token: forged() }), 401, 'INVALID_PROVIDER_TOKEN');
      expect(keys()).toBe(before + 1);
      for (let i = 0; i < 5; i += 1) {
        await expectRefused(
          () => login('apple', { identity_token: forged() }),
          401,
          'INVALID_PROVIDER_TOKEN',
        );
      }
      expect(keys()).toBe(before + 1);

      // Apple rotates: a token under the new kid works once the floor has passed.
      const rotated = newSigningKey('apple-key-2');
      fakes.apple.keys.published.push(rotated);
      clock.advance(61_000);
      expectLoginBody(
        await login('apple', { identity_token: fakes.apple.identityToken({ sub }, { key: rotated }) }),
      );
      expect(keys()).toBe(before + 2);
    });

    it('answers 503 when the key set cannot be fetched and no keys are known', async () => {
      const clock2 = new ManualClock();
      const other = await createTestApp(dialect, { ...fakes.environment }, { clock: clock2 });
      try {
        fakes.apple.http.mode = 'slow';
        const response = await other.app.inject({
          method: 'POST',
          url: '/v1/api/user/apple/app/login',
          payload: { identity_token: fakes.apple.identityToken({ sub: id('005.') }) },
        });
        expect(response.statusCode).toBe(503);
        expect(assertErrorResponse(response)).toEqual({
          message: 'apple is unavailable',
          code: 'PROVIDER_UNAVAILABLE',
        });
      } finally {
        await other.close();
      }
    });
  });

  describe('Google', () => {
    it('creates a google_ user for either issuer and audience, and finds it again', async () => {
      const sub = String(100_000_000_000 + Math.floor(Math.random() * 1e11));
      const first = expectLoginBody(
        await login('google', { id_token: fakes.google.idToken({ sub, name: 'Grace' }) }),
      );
      expect(json<{ username: string }>(await profile(first.token)).username).toMatch(
        /^google_[0-9a-f]{12}$/,
      );
      const second = expectLoginBody(
        await login('google', {
          id_token: fakes.google.idToken({
            sub,
            iss: 'accounts.google.com',
            aud: fakes.google.androidClientId,
          }),
        }),
      );
      expect(second.id).toBe(first.id);
      expect(await identityRow('google', sub)).toMatchObject({ display_name: 'Grace' });
    });

    it('refuses a wrong audience, issuer, expired or forged token with 401', async () => {
      const sub = id('g');
      const now = Math.floor(clock.now() / 1000);
      for (const token of [
        fakes.google.idToken({ sub, aud: 'someone-else.apps.googleusercontent.com' }),
        fakes.google.idToken({ sub, iss: 'https://appleid.apple.com' }),
        fakes.google.idToken({ sub, iat: now - 7200, exp: now - 3600 }),
        fakes.google.idToken({ sub }, { key: newSigningKey('google-key-1') }),
        fakes.google.keys.unsigned({
          iss: 'accounts.google.com',
          aud: fakes.google.clientId,
          sub,
          exp: now + 600,
        }),
      ]) {
        await expectRefused(
          () => login('google', { id_token: token }),
          401,
          'INVALID_PROVIDER_TOKEN',
          'invalid id_token',
        );
      }
    });
  });

  it('gives concurrent first logins of one identity one user', async () => {
    const sub = id('race');
    const token = fakes.google.idToken({ sub });
    const before = await counts();
    const responses = await Promise.all(
      Array.from({ length: 6 }, () => login('google', { id_token: token })),
    );
    const ids = responses.map((response) => expectLoginBody(response).id);
    expect(new Set(ids).size).toBe(1);
    const after = await counts();
    expect(after.users).toBe(before.users + 1);
    expect(after.identities).toBe(before.identities + 1);
    expect(after.sessions).toBe(before.sessions + 6);
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

describe.each(testDialects())('third-party login without configuration on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(async () => t.close());

  it.each([
    ['weixin', { code: 'abc' }],
    ['facebook', { access_token: 'abc' }],
    ['apple', { identity_token: 'a.b.c' }],
    ['google', { id_token: 'a.b.c' }],
  ])('%s answers 501 with a clear message', async (provider, payload) => {
    const response = await t.app.inject({
      method: 'POST',
      url: `/v1/api/user/${provider}/app/login`,
      payload,
    });
    expect(response.statusCode).toBe(501);
    expect(assertErrorResponse(response)).toEqual({
      message: `${provider} login is not configured`,
      code: 'PROVIDER_NOT_CONFIGURED',
    });
    const users = await t.database.handle.db.selectFrom('users').select('id').execute();
    expect(users).toEqual([]);
  });
});

describe.each(testDialects())('a login provider behind TLS on %s', (dialect) => {
  const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/fcm/${name}`, import.meta.url));
  let google: FakeGoogle;
  const clock = new ManualClock();
  beforeAll(async () => {
    google = await FakeGoogle.start(() => clock.now(), {
      key: readFileSync(fixture('server-key.pem'), 'utf8'),
      cert: readFileSync(fixture('server.pem'), 'utf8'),
    });
  });
  afterAll(async () => google.close());

  const environment = () => ({ GOOGLE_CLIENT_IDS: google.clientId, GOOGLE_JWKS_URL: google.jwksUrl });

  it('trusts the CA of LOGIN_PROVIDER_CA_FILE, and without it answers 503', async () => {
    expect(google.jwksUrl).toMatch(/^https:/);
    const trusting = await createTestApp(
      dialect,
      { ...environment(), LOGIN_PROVIDER_CA_FILE: fixture('ca.pem') },
      { clock },
    );
    const untrusting = await createTestApp(dialect, environment(), { clock });
    try {
      const payload = { id_token: google.idToken({ sub: 'tls-user' }) };
      const url = '/v1/api/user/google/app/login';
      const ok = await trusting.app.inject({ method: 'POST', url, payload });
      expect(ok.statusCode, ok.body).toBe(201);
      const refused = await untrusting.app.inject({ method: 'POST', url, payload });
      expect(refused.statusCode).toBe(503);
      expect(assertErrorResponse(refused).code).toBe('PROVIDER_UNAVAILABLE');
    } finally {
      await trusting.close();
      await untrusting.close();
    }
  });
});
