import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, registerUser, type TestApp, testDialects } from '../helpers/app.js';

/**
 * Failed passwords count against the account, whichever of its names is typed: switching from
 * the user name to the e-mail or the phone buys no extra guesses, from one address or from many.
 */
describe.each(testDialects())('brute-force budgets per account on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect, {
      RATE_LIMIT_FAILURES_PER_ACCOUNT_IP: '5',
      RATE_LIMIT_FAILURES_PER_ACCOUNT: '12',
    });
  });
  afterAll(async () => {
    await t.close();
  });

  async function account() {
    const suffix = randomInt(1_000_000, 9_999_999);
    const email = `owner${suffix}@example.com`;
    const phone = `+1555${suffix}`;
    const user = await registerUser(t.app, { email, phone });
    return { ...user, names: [user.username, email, phone] };
  }

  const login = async (remoteAddress: string, username: string, password: string) =>
    (
      await t.app.inject({
        method: 'POST',
        url: '/v1/api/user/login',
        remoteAddress,
        payload: { username, password },
      })
    ).statusCode;

  it('blocks every name form of an account once one address used up its guesses', async () => {
    const user = await account();
    const [username = '', email = '', phone = ''] = user.names;
    for (let i = 0; i < 5; i += 1) expect(await login('198.51.100.1', username, `wrong ${i}`)).toBe(401);
    expect(await login('198.51.100.1', email, 'wrong by e-mail')).toBe(429);
    expect(await login('198.51.100.1', phone, 'wrong by phone')).toBe(429);
    expect(await login('198.51.100.1', email.toUpperCase(), user.password)).toBe(429);
    // Another address is not blocked by this one's guesses.
    expect(await login('198.51.100.2', phone, user.password)).toBe(201);
  });

  it('blocks the account from new addresses after guesses spread over addresses and names', async () => {
    const user = await account();
    const [username = '', email = ''] = user.names;
    expect(await login('198.51.100.99', username, user.password)).toBe(201);
    for (let i = 0; i < 12; i += 1) {
      const name = user.names[i % 3] ?? '';
      expect(await login(`203.0.113.${i + 1}`, name, `wrong ${i}`)).toBe(401);
    }
    expect(await login('203.0.113.50', email, 'another guess')).toBe(429);
    expect(await login('203.0.113.51', email, user.password)).toBe(429);
    // The owner's own address still gets in, by any of the names.
    expect(await login('198.51.100.99', email, user.password)).toBe(201);
  });

  it('counts guesses at a name that belongs to no account against that name', async () => {
    const nobody = `nobody${randomInt(1_000_000, 9_999_999)}`;
    for (let i = 0; i < 5; i += 1) expect(await login('198.51.100.7', nobody, `wrong ${i}`)).toBe(401);
    expect(await login('198.51.100.7', nobody.toUpperCase(), 'wrong again')).toBe(429);
  });
});
