import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LoginProviderFakes, startLoginProviderFakes } from '../fakes/login-providers.js';
import {
  createTestApp,
  json,
  type LoginBody,
  registerUser,
  type TestApp,
  testDialects,
} from '../helpers/app.js';
import { ManualClock } from '../helpers/clock.js';
import { assertErrorResponse } from '../helpers/error-contract.js';

const id = (prefix: string) => `${prefix}${randomBytes(8).toString('hex')}`;

describe.each(testDialects())('binding third-party identities on %s', (dialect) => {
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

  const bind = (token: string, provider: string, payload: Record<string, unknown>) =>
    t.app.inject({ method: 'POST', url: `/v1/api/user/bind/${provider}`, headers: { token }, payload });
  const unbind = (token: string, provider: string) =>
    t.app.inject({ method: 'DELETE', url: `/v1/api/user/bind/${provider}`, headers: { token } });
  const identities = async (token: string) => {
    const response = await t.app.inject({
      method: 'GET',
      url: '/v1/api/user/identities',
      headers: { token },
    });
    expect(response.statusCode).toBe(200);
    return json<Array<Record<string, unknown>>>(response);
  };
  const login = async (provider: string, payload: Record<string, unknown>): Promise<LoginBody> => {
    const response = await t.app.inject({
      method: 'POST',
      url: `/v1/api/user/${provider}/app/login`,
      payload,
    });
    expect(response.statusCode, response.body).toBe(201);
    return json<LoginBody>(response);
  };
  const googleToken = (sub: string, name = 'Grace') => fakes.google.idToken({ sub, name });
  const refused = (response: Awaited<ReturnType<typeof unbind>>, status: number, code: string) => {
    expect(response.statusCode, response.body).toBe(status);
    expect(assertErrorResponse(response).code).toBe(code);
  };
  const userExists = async (userId: number) =>
    (await t.database.handle.db
      .selectFrom('users')
      .select('id')
      .where('id', '=', userId)
      .executeTakeFirst()) !== undefined;

  it('links an identity to a password user, lists it without tokens, and logs that user in with it', async () => {
    const owner = await registerUser(t.app);
    const sub = id('g');
    const linked = await bind(owner.token, 'google', { id_token: googleToken(sub) });
    expect(linked.statusCode, linked.body).toBe(201);
    expect(json(linked)).toEqual({
      provider: 'google',
      display_name: 'Grace',
      linked_at: Math.floor(clock.now() / 1000),
      message: 'success',
    });
    // Binding the same identity again is harmless.
    expect((await bind(owner.token, 'google', { id_token: googleToken(sub) })).statusCode).toBe(201);

    const apple = id('001.');
    expect(
      (
        await bind(owner.token, 'apple', {
          identity_token: fakes.apple.identityToken({ sub: apple, email: 'a@b.cd' }),
        })
      ).statusCode,
    ).toBe(201);
    const list = await identities(owner.token);
    expect(list).toEqual([
      { provider: 'google', display_name: 'Grace', linked_at: Math.floor(clock.now() / 1000) },
      { provider: 'apple', display_name: 'a@b.cd', linked_at: Math.floor(clock.now() / 1000) },
    ]);
    expect(JSON.stringify(list)).not.toContain(sub);

    const viaGoogle = await login('google', { id_token: googleToken(sub) });
    expect(viaGoogle.id).toBe(owner.id);
  });

  it('refuses an identity that belongs to another user, and a second identity of one provider (409)', async () => {
    const owner = await registerUser(t.app);
    const sub = id('g');
    const other = await login('google', { id_token: googleToken(sub) });
    refused(await bind(owner.token, 'google', { id_token: googleToken(sub) }), 409, 'IDENTITY_TAKEN');
    expect(json(await bind(owner.token, 'google', { id_token: googleToken(sub) }))).toEqual({
      message: 'google account bound to another user',
      code: 'IDENTITY_TAKEN',
    });
    expect(await identities(owner.token)).toEqual([]);
    expect((await identities(other.token)).length).toBe(1);

    expect((await bind(owner.token, 'google', { id_token: googleToken(id('g')) })).statusCode).toBe(201);
    refused(
      await bind(owner.token, 'google', { id_token: googleToken(id('g')) }),
      409,
      'PROVIDER_ALREADY_BOUND',
    );
  });

  it('never links by e-mail: the same address at two providers makes two users', async () => {
    const email = `${id('same')}@gmail.com`;
    const viaGoogle = await login('google', { id_token: fakes.google.idToken({ sub: id('g'), email }) });
    const viaApple = await login('apple', {
      identity_token: fakes.apple.identityToken({ sub: id('002.'), email }),
    });
    expect(viaApple.id).not.toBe(viaGoogle.id);
  });

  it('binds with each provider’s login body, and refuses a bad token with 401', async () => {
    const owner = await registerUser(t.app);
    const wx = { openid: id('o'), unionid: id('u'), nickname: '微信' };
    expect((await bind(owner.token, 'weixin', { code: fakes.weixin.issueCode(wx) })).statusCode).toBe(201);
    const fbToken = fakes.facebook.issueToken({ userId: String(Date.now()).slice(-9), name: 'FB' });
    expect((await bind(owner.token, 'facebook', { access_token: fbToken })).statusCode).toBe(201);
    refused(await bind(owner.token, 'apple', { identity_token: 'a.b.c' }), 401, 'INVALID_PROVIDER_TOKEN');
    expect((await identities(owner.token)).map((row) => row.provider)).toEqual(['weixin', 'facebook']);
    const viaWeixin = await login('weixin', { code: fakes.weixin.issueCode(wx) });
    expect(viaWeixin.id).toBe(owner.id);
  });

  it('unbinds, but never the last way to log in of a user without a password', async () => {
    const appleSub = id('003.');
    const user = await login('apple', { identity_token: fakes.apple.identityToken({ sub: appleSub }) });
    refused(await unbind(user.token, 'apple'), 409, 'LAST_LOGIN_METHOD');
    expect(json(await unbind(user.token, 'apple'))).toEqual({
      message: 'cannot unbind the last way to log in',
      code: 'LAST_LOGIN_METHOD',
    });
    refused(await unbind(user.token, 'google'), 404, 'NOT_FOUND');

    expect((await bind(user.token, 'google', { id_token: googleToken(id('g')) })).statusCode).toBe(201);
    expect((await unbind(user.token, 'apple')).statusCode).toBe(200);
    refused(await unbind(user.token, 'google'), 409, 'LAST_LOGIN_METHOD');
    expect((await identities(user.token)).map((row) => row.provider)).toEqual(['google']);
    // The Apple identity is free again: it now makes a new user.
    const again = await login('apple', { identity_token: fakes.apple.identityToken({ sub: appleSub }) });
    expect(again.id).not.toBe(user.id);

    const passwordUser = await registerUser(t.app);
    expect((await bind(passwordUser.token, 'google', { id_token: googleToken(id('g')) })).statusCode).toBe(
      201,
    );
    expect((await unbind(passwordUser.token, 'google')).statusCode).toBe(200);
    expect(await identities(passwordUser.token)).toEqual([]);
    refused(await unbind(passwordUser.token, 'twitter'), 400, 'FIELD_INVALID');
  });

  it('keeps two concurrent unbinds from leaving a user without a way to log in', async () => {
    const user = await login('google', { id_token: googleToken(id('g')) });
    expect(
      (await bind(user.token, 'apple', { identity_token: fakes.apple.identityToken({ sub: id('004.') }) }))
        .statusCode,
    ).toBe(201);
    const results = await Promise.all([unbind(user.token, 'google'), unbind(user.token, 'apple')]);
    expect(results.map((response) => response.statusCode).sort()).toEqual([200, 409]);
    expect((await identities(user.token)).length).toBe(1);
  });

  it('unbinding Apple revokes the refresh token Apple gave', async () => {
    const owner = await registerUser(t.app);
    const sub = id('005.');
    const linked = await bind(owner.token, 'apple', {
      identity_token: fakes.apple.identityToken({ sub }),
      authorization_code: fakes.apple.issueCode(sub),
    });
    expect(linked.statusCode).toBe(201);
    const [refreshToken] = [...fakes.apple.refreshTokens].find(([, entry]) => entry.sub === sub) ?? [];
    expect((await unbind(owner.token, 'apple')).statusCode).toBe(200);
    expect(fakes.apple.revocations.at(-1)).toMatchObject({
      client_id: fakes.apple.bundleId,
      token: refreshToken,
      token_type_hint: 'refresh_token',
    });
  });

  describe('account deletion', () => {
    const deleteAccount = (token: string, payload: Record<string, unknown> = {}) =>
      t.app.inject({ method: 'DELETE', url: '/v1/api/user', headers: { token }, payload });

    it('revokes the Apple tokens and removes the identities of a Sign in with Apple user', async () => {
      const sub = id('006.');
      const user = await login('apple', {
        identity_token: fakes.apple.identityToken({ sub }),
        authorization_code: fakes.apple.issueCode(sub),
      });
      expect((await bind(user.token, 'google', { id_token: googleToken(id('g')) })).statusCode).toBe(201);
      const [refreshToken, entry] =
        [...fakes.apple.refreshTokens].find(([, value]) => value.sub === sub) ?? [];
      const revocations = fakes.apple.revocations.length;

      const response = await deleteAccount(user.token);
      expect(response.statusCode, response.body).toBe(200);
      expect(fakes.apple.revocations.length).toBe(revocations + 1);
      expect(fakes.apple.revocations.at(-1)).toMatchObject({
        token: refreshToken,
        client_id: fakes.apple.bundleId,
      });
      expect(entry?.revoked).toBe(true);
      expect(fakes.apple.lastRejection).toBeUndefined();
      const rows = await t.database.handle.db
        .selectFrom('identities')
        .select('id')
        .where('user_id', '=', user.id)
        .execute();
      expect(rows).toEqual([]);
      expect(await userExists(user.id)).toBe(false);
      const fresh = await login('apple', { identity_token: fakes.apple.identityToken({ sub }) });
      expect(fresh.id).not.toBe(user.id);
    });

    it('deletes even when Apple cannot be reached to revoke', async () => {
      const sub = id('007.');
      const user = await login('apple', {
        identity_token: fakes.apple.identityToken({ sub }),
        authorization_code: fakes.apple.issueCode(sub),
      });
      fakes.apple.http.mode = 'down';
      try {
        expect((await deleteAccount(user.token)).statusCode).toBe(200);
      } finally {
        fakes.apple.http.mode = 'up';
      }
      expect(await userExists(user.id)).toBe(false);
    });

    it('asks a user without a password to log in again when the session is not recent', async () => {
      const user = await login('google', { id_token: googleToken(id('g')) });
      clock.advance(601_000);
      refused(await deleteAccount(user.token), 403, 'RECENT_LOGIN_REQUIRED');
      expect(await userExists(user.id)).toBe(true);
    });

    it('still asks a password user for the password', async () => {
      const owner = await registerUser(t.app);
      expect((await bind(owner.token, 'google', { id_token: googleToken(id('g')) })).statusCode).toBe(201);
      refused(await deleteAccount(owner.token), 400, 'FIELD_MISSING');
      refused(await deleteAccount(owner.token, { password: 'not it at all' }), 403, 'WRONG_PASSWORD');
      expect((await deleteAccount(owner.token, { password: owner.password })).statusCode).toBe(200);
      expect(await userExists(owner.id)).toBe(false);
    });
  });
});
