import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, json, registerUser, type TestApp, testDialects } from '../helpers/app.js';

const refreshSeconds = 600;

/**
 * Apps re-register their push token at every start. A re-registration that changes nothing is
 * answered like any other but not written, as long as the row was written within
 * REGISTRATION_REFRESH_SECONDS; anything that differs is written at once.
 */
describe.each(testDialects())('unchanged re-registrations on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect, {
      REGISTRATION_REFRESH_SECONDS: String(refreshSeconds),
      MAX_REGISTRATIONS_PER_CHANNEL: '2',
    });
  });
  afterAll(async () => t.close());

  const body = (pushToken: string) => ({
    push_token: pushToken,
    language: 'en',
    dev: 1,
    bundleid: 'com.example.doorbell',
    os: 'ios',
    os_token: 'voip-abc',
    push_platform: 'apns',
  });
  const register = async (token: string, payload: Record<string, unknown>) => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/v1/api/user/token',
      headers: { token },
      payload,
    });
    expect(response.statusCode).toBe(201);
    expect(json(response)).toEqual({ message: 'success' });
  };
  const rowOf = (pushToken: string) =>
    t.database.handle.db
      .selectFrom('registrations')
      .select(['user_id', 'session_id', 'language', 'os_token', 'updated_at', 'created_at'])
      .where('channel', '=', 'ring')
      .where('push_token', '=', pushToken)
      .executeTakeFirstOrThrow();
  const advanceSeconds = (seconds: number) => t.clock.advance(seconds * 1000);

  it('keeps the row as it was while nothing changed, and refreshes its time after the interval', async () => {
    const user = await registerUser(t.app);
    const pushToken = `same-${user.id}`;
    await register(user.token, body(pushToken));
    const written = await rowOf(pushToken);
    expect(written.updated_at).toBe(written.created_at);

    advanceSeconds(refreshSeconds - 1);
    await register(user.token, body(pushToken));
    expect(await rowOf(pushToken)).toEqual(written);

    advanceSeconds(2);
    await register(user.token, body(pushToken));
    const refreshed = await rowOf(pushToken);
    expect(Number(refreshed.updated_at)).toBe(t.clock.now());
    expect(refreshed.created_at).toBe(written.created_at);
  });

  it('writes any changed field at once', async () => {
    const user = await registerUser(t.app);
    const pushToken = `changed-${user.id}`;
    await register(user.token, body(pushToken));
    advanceSeconds(1);
    await register(user.token, { ...body(pushToken), language: 'de' });
    expect(await rowOf(pushToken)).toMatchObject({ language: 'de', updated_at: t.clock.now() });
    advanceSeconds(1);
    await register(user.token, { ...body(pushToken), language: 'de', os_token: 'voip-def' });
    expect(await rowOf(pushToken)).toMatchObject({ os_token: 'voip-def', updated_at: t.clock.now() });
  });

  it('binds the row to the new session of the same user, and moves it to another user', async () => {
    const user = await registerUser(t.app);
    const pushToken = `owner-${user.id}`;
    await register(user.token, body(pushToken));
    const first = await rowOf(pushToken);

    const login = await t.app.inject({
      method: 'POST',
      url: '/v1/api/user/login',
      payload: { username: user.username, password: user.password },
    });
    const second = json<{ token: string }>(login);
    advanceSeconds(1);
    await register(second.token, body(pushToken));
    const rebound = await rowOf(pushToken);
    expect(rebound.session_id).not.toBe(first.session_id);
    expect(Number(rebound.updated_at)).toBe(t.clock.now());

    const other = await registerUser(t.app);
    await register(other.token, body(pushToken));
    expect((await rowOf(pushToken)).user_id).toBe(other.id);
  });

  it('keeps the most recently registered rows at the limit, to within the interval', async () => {
    const user = await registerUser(t.app);
    const [a, b, c] = ['a', 'b', 'c'].map((name) => `${name}-${user.id}`) as [string, string, string];
    await register(user.token, body(a));
    advanceSeconds(1);
    await register(user.token, body(b));
    // `a` again, after the interval: it is now the newer of the two, so `b` goes at the limit.
    advanceSeconds(refreshSeconds + 1);
    await register(user.token, body(a));
    advanceSeconds(1);
    await register(user.token, body(c));
    const tokens = await t.database.handle.db
      .selectFrom('registrations')
      .select('push_token')
      .where('user_id', '=', user.id)
      .orderBy('push_token')
      .execute();
    expect(tokens.map((row) => row.push_token)).toEqual([a, c]);
  });
});
