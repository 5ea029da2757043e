import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, registerUser, type TestApp, testDialects } from '../helpers/app.js';

describe.each(testDialects())('smoke on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(async () => t.close());

  it('registers, logs in and registers a push token', async () => {
    const user = await registerUser(t.app);
    const login = await t.app.inject({
      method: 'POST',
      url: '/v1/api/user/login',
      payload: { username: user.username, password: user.password },
    });
    expect(login.statusCode).toBe(201);
    const { token } = login.json() as { token: string };
    const add = await t.app.inject({
      method: 'POST',
      url: '/v1/api/user/token',
      headers: { Token: token },
      payload: { push_token: 'a'.repeat(64), language: 'en' },
    });
    expect(add.statusCode).toBe(201);
    expect(add.json()).toEqual({ message: 'success' });
    const list = await t.app.inject({ method: 'GET', url: '/v1/api/user/token', headers: { token } });
    expect(list.json()).toMatchObject([
      { push_token: 'a'.repeat(64), language: 'en', provider: 'apns', id: user.id },
    ]);
  });
});
