import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeGoogle } from '../fakes/google-server.js';
import { newSigningKey } from '../fakes/oidc-keys.js';
import { createTestApp, json, type TestApp, testDialects } from '../helpers/app.js';
import { ManualClock } from '../helpers/clock.js';
import { assertErrorResponse } from '../helpers/error-contract.js';
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
  useLoginTestbed,
} from '../helpers/third-party-login.js';

describe.each(testDialects())('third-party login on %s', (dialect) => {
  useLoginTestbed(dialect);

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
