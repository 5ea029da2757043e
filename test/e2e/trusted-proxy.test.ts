import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, registerUser, type TestApp, testDialects } from '../helpers/app.js';

/**
 * Behind a reverse proxy the client's address is the one the proxy saw (the right-most entry
 * of X-Forwarded-For that the proxy appended), never an entry the client wrote itself: a
 * client rotating a forged left-most entry still meets the per-address login budget.
 */
describe.each(testDialects())('the client address behind a trusted proxy on %s', (dialect) => {
  // Inject connects from 127.0.0.1: that is the proxy; 127.0.0.10 is the client it saw.
  describe.each([
    ['a hop count', '1'],
    ['the proxy address', '127.0.0.1'],
    ['the proxy range', '127.0.0.0/31'],
  ])('TRUST_PROXY as %s', (_form, trustProxy) => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp(dialect, { TRUST_PROXY: trustProxy });
    });
    afterAll(async () => {
      await t.close();
    });

    it('counts 30 wrong passwords under forged X-Forwarded-For entries against one address', async () => {
      const user = await registerUser(t.app);
      const statuses: number[] = [];
      for (let i = 1; i <= 30; i += 1) {
        const response = await t.app.inject({
          method: 'POST',
          url: '/v1/api/user/login',
          headers: { 'x-forwarded-for': `203.0.113.${i}, 127.0.0.10` },
          payload: { username: user.username, password: `wrong ${i}` },
        });
        statuses.push(response.statusCode);
      }
      expect(statuses.slice(0, 10).every((status) => status === 401)).toBe(true);
      expect(statuses.slice(10).every((status) => status === 429)).toBe(true);

      // Another client behind the same proxy has a budget of its own.
      const other = await t.app.inject({
        method: 'POST',
        url: '/v1/api/user/login',
        headers: { 'x-forwarded-for': '127.0.0.11' },
        payload: { username: user.username, password: user.password },
      });
      expect(other.statusCode).toBe(201);
    });
  });
});
