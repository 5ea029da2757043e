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

describe.each(testDialects())('sessions on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(async () => t.close());

  const refresh = (reflash_key: string, url = '/v1/api/user/reflash') =>
    t.app.inject({ method: 'POST', url, payload: { reflash_key } });
  const profile = (token: string) => t.app.inject({ method: 'GET', url: '/v1/api/user', headers: { token } });
  const addToken = (token: string, push_token: string, url = '/v1/api/user/token') =>
    t.app.inject({ method: 'POST', url, headers: { token }, payload: { push_token, language: 'en' } });

  it('rotates the reflash_key on every use (reflash and refresh alike)', async () => {
    const user = await registerUser(t.app);
    const first = await refresh(user.reflash_key);
    expect(first.statusCode).toBe(201);
    const pair = json<LoginBody>(first);
    expect(pair).toMatchObject({ id: user.id, message: 'success' });
    expect(pair.reflash_key).not.toBe(user.reflash_key);
    expect(pair.token).not.toBe(user.token);
    expect((await profile(pair.token)).statusCode).toBe(200);

    const second = await refresh(pair.reflash_key, '/v1/api/user/refresh');
    expect(second.statusCode).toBe(201);
    expect(json<LoginBody>(second).reflash_key).not.toBe(pair.reflash_key);
  });

  it('lets a retry with the key just replaced succeed within the grace period', async () => {
    const user = await registerUser(t.app);
    const first = json<LoginBody>(await refresh(user.reflash_key));
    t.clock.advance(9_000);
    const retry = await refresh(user.reflash_key);
    expect(retry.statusCode).toBe(201);
    const retried = json<LoginBody>(retry);
    expect((await profile(retried.token)).statusCode).toBe(200);
    // The pair the lost response carried still works too: the phone is not logged out.
    expect((await refresh(first.reflash_key)).statusCode).toBe(201);
    expect((await profile(retried.token)).statusCode).toBe(200);
  });

  it('revokes the whole session when an old key is reused after the grace period', async () => {
    const user = await registerUser(t.app);
    await addToken(user.token, `reuse-${user.id}`);
    const current = json<LoginBody>(await refresh(user.reflash_key));
    expect((await profile(current.token)).statusCode).toBe(200);
    t.clock.advance(10_001);

    const reuse = await refresh(user.reflash_key);
    expect(reuse.statusCode).toBe(401);
    expect(json(reuse)).toEqual({ message: 'invalid reflash_key', code: 'INVALID_REFLASH_KEY' });
    // The token of the session stops working at once, and its current key is dead too.
    expect((await profile(current.token)).statusCode).toBe(401);
    expect((await refresh(current.reflash_key)).statusCode).toBe(401);
    const rows = await t.database.handle.db
      .selectFrom('registrations')
      .selectAll()
      .where('user_id', '=', user.id)
      .execute();
    expect(rows).toEqual([]);
  });

  it('keeps other sessions of the user when one is revoked for reuse', async () => {
    const user = await registerUser(t.app);
    const other = json<LoginBody>(
      await t.app.inject({
        method: 'POST',
        url: '/v1/api/user/login',
        payload: { username: user.username, password: user.password },
      }),
    );
    await refresh(user.reflash_key);
    t.clock.advance(60_000);
    expect((await refresh(user.reflash_key)).statusCode).toBe(401);
    expect((await profile(other.token)).statusCode).toBe(200);
  });

  it('stops accepting the replaced token after the grace period', async () => {
    const user = await registerUser(t.app);
    await refresh(user.reflash_key);
    expect((await profile(user.token)).statusCode).toBe(200);
    t.clock.advance(10_001);
    expect((await profile(user.token)).statusCode).toBe(401);
  });

  it('rejects unknown and expired reflash keys', async () => {
    expect((await refresh('not-a-key')).statusCode).toBe(401);
    const user = await registerUser(t.app);
    t.clock.advance(180 * 24 * 3600 * 1000 + 1);
    expect((await refresh(user.reflash_key)).statusCode).toBe(401);
  });

  it('logs out with the token header: the next request is rejected and the session’s push tokens go', async () => {
    const user = await registerUser(t.app);
    const other = json<LoginBody>(
      await t.app.inject({
        method: 'POST',
        url: '/v1/api/user/login',
        payload: { username: user.username, password: user.password },
      }),
    );
    await addToken(user.token, `lo-ring-${user.id}`);
    await addToken(user.token, `lo-msg-${user.id}`, '/v1/api/user/message/token');
    await addToken(other.token, `lo-other-${user.id}`);
    expect((await profile(user.token)).statusCode).toBe(200);

    const out = await t.app.inject({
      method: 'POST',
      url: '/v1/api/user/logout',
      headers: { token: user.token },
    });
    expect(out.statusCode).toBe(200);
    expect(json(out)).toEqual({ message: 'success' });
    expect((await profile(user.token)).statusCode).toBe(401);
    expect((await refresh(user.reflash_key)).statusCode).toBe(401);
    const left = await t.database.handle.db
      .selectFrom('registrations')
      .select('push_token')
      .where('user_id', '=', user.id)
      .execute();
    expect(left).toEqual([{ push_token: `lo-other-${user.id}` }]);
    expect((await profile(other.token)).statusCode).toBe(200);
  });

  it('logs out with the manual’s body {username, token}', async () => {
    const user = await registerUser(t.app);
    const wrongName = await t.app.inject({
      method: 'POST',
      url: '/v1/api/user/logout',
      payload: { username: uniqueUsername(), token: user.token },
    });
    expect(wrongName.statusCode).toBe(401);
    expect((await profile(user.token)).statusCode).toBe(200);
    const out = await t.app.inject({
      method: 'POST',
      url: '/v1/api/user/logout',
      headers: { accept: 'application/json', 'content-type': 'application/json' },
      payload: JSON.stringify({ username: user.username, token: user.token }),
    });
    expect(out.statusCode).toBe(200);
    expect((await profile(user.token)).statusCode).toBe(401);
  });

  it('answers logout without any token with 401 no token', async () => {
    const out = await t.app.inject({
      method: 'POST',
      url: '/v1/api/user/logout',
      headers: { 'content-type': 'application/json' },
      payload: '',
    });
    expect(out.statusCode).toBe(401);
    expect(json(out)).toEqual({ message: 'no token', code: 'NO_TOKEN' });
  });
});

describe.each(testDialects())('single-session policy on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect, { SESSION_POLICY: 'single' });
  });
  afterAll(async () => t.close());

  it('a login ends the user’s other sessions and deletes their push tokens', async () => {
    const user = await registerUser(t.app);
    await t.app.inject({
      method: 'POST',
      url: '/v1/api/user/token',
      headers: { token: user.token },
      payload: { push_token: `single-${user.id}`, language: 'en' },
    });
    const again = await t.app.inject({
      method: 'POST',
      url: '/v1/api/user/login',
      payload: { username: user.username, password: user.password },
    });
    expect(again.statusCode).toBe(201);
    const fresh = json<LoginBody>(again);
    expect(
      (await t.app.inject({ method: 'GET', url: '/v1/api/user', headers: { token: user.token } })).statusCode,
    ).toBe(401);
    expect(
      (await t.app.inject({ method: 'GET', url: '/v1/api/user', headers: { token: fresh.token } }))
        .statusCode,
    ).toBe(200);
    const rows = await t.database.handle.db
      .selectFrom('registrations')
      .selectAll()
      .where('user_id', '=', user.id)
      .execute();
    expect(rows).toEqual([]);
  });
});

describe.each(testDialects())('brute-force limits on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect, {
      RATE_LIMIT_AUTH_PER_IP: '1000',
      RATE_LIMIT_FAILURES_PER_ACCOUNT_IP: '3',
      RATE_LIMIT_FAILURES_PER_ACCOUNT: '5',
      RATE_LIMIT_BLOCK_SECONDS: '60',
    });
  });
  afterAll(async () => t.close());

  const attempt = (username: string, password: string, remoteAddress = '10.0.0.1') =>
    t.app.inject({
      method: 'POST',
      url: '/v1/api/user/login',
      payload: { username, password },
      remoteAddress,
    });

  it('blocks an account after repeated failures from one address, then lets it go', async () => {
    const user = await registerUser(t.app);
    for (let i = 0; i < 3; i += 1)
      expect((await attempt(user.username, 'wrong password')).statusCode).toBe(401);
    const blocked = await attempt(user.username, 'wrong password');
    expect(blocked.statusCode).toBe(429);
    expect(json(blocked)).toEqual({ message: 'too many requests', code: 'RATE_LIMITED' });
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    // Even the right password waits out the block from that address …
    expect((await attempt(user.username, user.password)).statusCode).toBe(429);
    // … but not for ever.
    t.clock.advance(61_000);
    expect((await attempt(user.username, user.password)).statusCode).toBe(201);
  });

  it('does not let a distributed attack lock the owner out of a known address', async () => {
    const user = await registerUser(t.app);
    expect((await attempt(user.username, user.password, '10.1.1.1')).statusCode).toBe(201);
    for (let i = 0; i < 6; i += 1) await attempt(user.username, 'wrong password', `10.2.0.${i}`);
    expect((await attempt(user.username, 'wrong password', '10.2.1.1')).statusCode).toBe(429);
    expect((await attempt(user.username, user.password, '10.1.1.1')).statusCode).toBe(201);
  });

  it('limits requests per address on login, register and refresh', async () => {
    const limited = await createTestApp(dialect, {
      RATE_LIMIT_AUTH_PER_IP: '3',
      RATE_LIMIT_AUTH_WINDOW_SECONDS: '60',
    });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i += 1) {
        const response = await limited.app.inject({
          method: 'POST',
          url: i % 2 === 0 ? '/v1/api/user/login' : '/v1/api/user/reflash',
          payload: i % 2 === 0 ? { username: 'someone', password: 'whatever1' } : { reflash_key: 'x' },
          remoteAddress: '10.9.9.9',
        });
        statuses.push(response.statusCode);
      }
      expect(statuses).toEqual([401, 401, 401, 429]);
      const otherAddress = await limited.app.inject({
        method: 'POST',
        url: '/v1/api/user',
        payload: { username: uniqueUsername(), password: 'long enough password' },
        remoteAddress: '10.9.9.10',
      });
      expect(otherAddress.statusCode).toBe(201);
      limited.clock.advance(60_001);
      const later = await limited.app.inject({
        method: 'POST',
        url: '/v1/api/user/reflash',
        payload: { reflash_key: 'x' },
        remoteAddress: '10.9.9.9',
      });
      expect(later.statusCode).toBe(401);
    } finally {
      await limited.close();
    }
  });
});
