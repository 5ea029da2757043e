import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestApp,
  json,
  type LoginBody,
  registerUser,
  type TestApp,
  testDialects,
  uniqueUsername,
} from '../helpers/app.js';

describe.each(testDialects())('accounts on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(async () => t.close());

  const login = (username: string, password: string) =>
    t.app.inject({ method: 'POST', url: '/v1/api/user/login', payload: { username, password } });

  it('registers with 201 and the login body', async () => {
    const username = uniqueUsername('reg');
    const response = await t.app.inject({
      method: 'POST',
      url: '/v1/api/user',
      payload: {
        username,
        password: 'long enough password',
        email: `${username}@Example.com`,
        phone: '+8613800000001',
      },
    });
    expect(response.statusCode).toBe(201);
    const body = json<LoginBody>(response);
    expect(body).toMatchObject({ message: 'success', expires_in: 30 * 24 * 3600 });
    expect(body.id).toBeGreaterThan(0);
    expect(body.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(body.reflash_key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(body.token).not.toBe(body.reflash_key);
    expect(body.time).toBe(Math.floor(t.clock.now() / 1000) + 30 * 24 * 3600);
  });

  it('refuses a taken user name (any case), e-mail or phone with 409', async () => {
    const user = await registerUser(t.app, {
      email: `${uniqueUsername('m')}@example.com`,
      phone: '+8613800000002',
    });
    const attempt = (payload: Record<string, string>) =>
      t.app.inject({
        method: 'POST',
        url: '/v1/api/user',
        payload: { password: 'another password', ...payload },
      });

    const sameName = await attempt({ username: user.username.toUpperCase() });
    expect(sameName.statusCode).toBe(409);
    expect(json(sameName)).toEqual({ message: 'username exist', code: 'USERNAME_EXISTS' });

    const sameEmail = await attempt({
      username: uniqueUsername(),
      email: (await emailOf(user.token)).toUpperCase(),
    });
    expect(sameEmail.statusCode).toBe(409);
    expect(json(sameEmail)).toEqual({ message: 'email exist', code: 'EMAIL_EXISTS' });

    const samePhone = await attempt({ username: uniqueUsername(), phone: '+8613800000002' });
    expect(samePhone.statusCode).toBe(409);
    expect(json(samePhone)).toEqual({ message: 'phone exist', code: 'PHONE_EXISTS' });
  });

  async function emailOf(token: string): Promise<string> {
    const profile = await t.app.inject({ method: 'GET', url: '/v1/api/user', headers: { token } });
    return json<{ email: string }>(profile).email;
  }

  it('takes an empty e-mail or phone as not given', async () => {
    const first = await registerUser(t.app, { email: '', phone: '' });
    const second = await registerUser(t.app, { email: '', phone: '' });
    expect(second.id).not.toBe(first.id);
    const profile = await t.app.inject({
      method: 'GET',
      url: '/v1/api/user',
      headers: { token: first.token },
    });
    expect(json(profile)).toMatchObject({ email: null, phone: null });
  });

  it('enforces user name and password lengths with the manual wording', async () => {
    const short = await t.app.inject({
      method: 'POST',
      url: '/v1/api/user',
      payload: { username: 'abc', password: 'long enough password' },
    });
    expect(short.statusCode).toBe(400);
    expect(json(short)).toEqual({ message: 'username length error', code: 'FIELD_LENGTH' });
    const weak = await t.app.inject({
      method: 'POST',
      url: '/v1/api/user',
      payload: { username: uniqueUsername(), password: 'short' },
    });
    expect(json(weak)).toEqual({ message: 'password length error', code: 'FIELD_LENGTH' });
    const missing = await t.app.inject({
      method: 'POST',
      url: '/v1/api/user',
      payload: { username: uniqueUsername() },
    });
    expect(json(missing)).toEqual({ message: 'undefined password', code: 'FIELD_MISSING' });
  });

  it('logs in by user name, e-mail or phone with 201', async () => {
    const email = `${uniqueUsername('e')}@example.com`;
    const user = await registerUser(t.app, { email, phone: '+8613800000003' });
    for (const name of [user.username, user.username.toUpperCase(), email.toUpperCase(), '+8613800000003']) {
      const response = await login(name, user.password);
      expect(response.statusCode, name).toBe(201);
      expect(json<LoginBody>(response).id).toBe(user.id);
    }
  });

  it('answers a wrong password and an unknown user alike', async () => {
    const user = await registerUser(t.app);
    const wrong = await login(user.username, 'not the password');
    const unknown = await login(uniqueUsername('ghost'), 'not the password');
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(json(wrong)).toEqual({ message: 'username or password error', code: 'BAD_CREDENTIALS' });
    expect(json(unknown)).toEqual(json(wrong));
  });

  it('each login is its own session; sessions are independent by default', async () => {
    const user = await registerUser(t.app);
    const second = json<LoginBody>(await login(user.username, user.password));
    expect(second.token).not.toBe(user.token);
    for (const token of [user.token, second.token]) {
      const profile = await t.app.inject({ method: 'GET', url: '/v1/api/user', headers: { token } });
      expect(profile.statusCode).toBe(200);
      expect(json(profile)).toMatchObject({ id: user.id, username: user.username });
    }
  });

  it('accepts the token header in any case and as a bearer token', async () => {
    const user = await registerUser(t.app);
    for (const headers of [
      { token: user.token },
      { Token: user.token },
      { TOKEN: user.token },
      { authorization: `Bearer ${user.token}` },
    ]) {
      const response = await t.app.inject({ method: 'GET', url: '/v1/api/user', headers });
      expect(response.statusCode, JSON.stringify(Object.keys(headers))).toBe(200);
    }
    const none = await t.app.inject({ method: 'GET', url: '/v1/api/user' });
    expect(none.statusCode).toBe(401);
    expect(json(none)).toEqual({ message: 'no token', code: 'NO_TOKEN' });
    const bad = await t.app.inject({ method: 'GET', url: '/v1/api/user', headers: { token: 'nonsense' } });
    expect(bad.statusCode).toBe(401);
    expect(json(bad)).toEqual({ message: 'invalid token', code: 'INVALID_TOKEN' });
  });

  it('expires the token after its lifetime', async () => {
    const user = await registerUser(t.app);
    t.clock.advance(30 * 24 * 3600 * 1000 - 1000);
    expect(
      (await t.app.inject({ method: 'GET', url: '/v1/api/user', headers: { token: user.token } })).statusCode,
    ).toBe(200);
    t.clock.advance(2000);
    const expired = await t.app.inject({
      method: 'GET',
      url: '/v1/api/user',
      headers: { token: user.token },
    });
    expect(expired.statusCode).toBe(401);
    expect(json(expired).code).toBe('INVALID_TOKEN');
  });

  it('changes the password, ending the other sessions at once', async () => {
    const user = await registerUser(t.app);
    const other = json<LoginBody>(await login(user.username, user.password));
    await t.app.inject({
      method: 'POST',
      url: '/v1/api/user/token',
      headers: { token: other.token },
      payload: { push_token: `pw-${user.id}`, language: 'en' },
    });
    // Warm the other session into the auth cache: revocation must still apply at once.
    expect(
      (await t.app.inject({ method: 'GET', url: '/v1/api/user', headers: { token: other.token } }))
        .statusCode,
    ).toBe(200);

    const wrongOld = await t.app.inject({
      method: 'PUT',
      url: '/v1/api/user/password',
      headers: { token: user.token },
      payload: { old_password: 'wrong password', new_password: 'a brand new password' },
    });
    expect(wrongOld.statusCode).toBe(403);
    expect(json(wrongOld).code).toBe('WRONG_PASSWORD');

    const changed = await t.app.inject({
      method: 'PUT',
      url: '/v1/api/user/password',
      headers: { token: user.token },
      payload: { old_password: user.password, new_password: 'a brand new password' },
    });
    expect(changed.statusCode).toBe(200);
    expect(json(changed)).toEqual({ message: 'success' });
    expect(
      (await t.app.inject({ method: 'GET', url: '/v1/api/user', headers: { token: other.token } }))
        .statusCode,
    ).toBe(401);
    expect(
      (await t.app.inject({ method: 'GET', url: '/v1/api/user', headers: { token: user.token } })).statusCode,
    ).toBe(200);
    const rows = await t.database.handle.db
      .selectFrom('registrations')
      .selectAll()
      .where('user_id', '=', user.id)
      .execute();
    expect(rows).toEqual([]);
    expect((await login(user.username, user.password)).statusCode).toBe(401);
    expect((await login(user.username, 'a brand new password')).statusCode).toBe(201);
  });

  it('deletes the account: sessions and registrations go, the name becomes free', async () => {
    const user = await registerUser(t.app);
    const other = json<LoginBody>(await login(user.username, user.password));
    for (const url of ['/v1/api/user/token', '/v1/api/user/message/token']) {
      await t.app.inject({
        method: 'POST',
        url,
        headers: { token: other.token },
        payload: { push_token: `del-${user.id}`, language: 'en' },
      });
    }
    const wrong = await t.app.inject({
      method: 'DELETE',
      url: '/v1/api/user',
      headers: { token: user.token },
      payload: { password: 'wrong password' },
    });
    expect(wrong.statusCode).toBe(403);

    const deleted = await t.app.inject({
      method: 'DELETE',
      url: '/v1/api/user',
      headers: { token: user.token },
      payload: { password: user.password },
    });
    expect(deleted.statusCode).toBe(200);
    expect(json(deleted)).toEqual({ message: 'success' });
    for (const token of [user.token, other.token]) {
      expect(
        (await t.app.inject({ method: 'GET', url: '/v1/api/user', headers: { token } })).statusCode,
      ).toBe(401);
    }
    expect((await login(user.username, user.password)).statusCode).toBe(401);
    const db = t.database.handle.db;
    expect(await db.selectFrom('registrations').selectAll().where('user_id', '=', user.id).execute()).toEqual(
      [],
    );
    expect(await db.selectFrom('sessions').selectAll().where('user_id', '=', user.id).execute()).toEqual([]);
    const again = await registerUser(t.app, { username: user.username });
    expect(again.id).not.toBe(user.id);
  });

  it('stores passwords as argon2id and tokens only as digests', async () => {
    const user = await registerUser(t.app);
    const db = t.database.handle.db;
    const row = await db.selectFrom('users').selectAll().where('id', '=', user.id).executeTakeFirstOrThrow();
    expect(row.password_hash).toMatch(/^\$argon2id\$/);
    expect(row.password_hash).not.toContain(user.password);
    const dump = JSON.stringify(await db.selectFrom('session_credentials').selectAll().execute());
    expect(dump).not.toContain(user.token);
    expect(dump).not.toContain(user.reflash_key);
  });
});
