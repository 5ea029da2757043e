import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, registerUser, type TestApp, testDialects, uniqueUsername } from '../helpers/app.js';
import { type Case, channels, resolve, type User, type World } from '../helpers/bad-input.js';
import { bodyCases, bodyRoutes } from '../helpers/bad-input-bodies.js';
import { refusedCases } from '../helpers/bad-input-refusals.js';
import { seqCases, tokenCases } from '../helpers/bad-input-tokens.js';
import { snapshotTables, type TablesSnapshot } from '../helpers/db-snapshot.js';
import { assertErrorResponse } from '../helpers/error-contract.js';

/**
 * Every route against missing, empty, mistyped, oversized, mis-encoded and hostile input:
 * each request gets exactly the contract's status, code and wording, and leaves every table
 * exactly as it was. The cases are generated from small per-route tables.
 */
const cases: Case[] = [...bodyRoutes.flatMap(bodyCases), ...tokenCases(), ...seqCases(), ...refusedCases];

// ---------------------------------------------------------------------------------------------

describe.each(testDialects())('bad input on %s', (dialect) => {
  let t: TestApp;
  let world: World;

  beforeAll(async () => {
    t = await createTestApp(dialect, {
      RATE_LIMIT_FAILURES_PER_ACCOUNT_IP: '1000000',
      RATE_LIMIT_FAILURES_PER_ACCOUNT: '1000000',
    });
    const ownerName = uniqueUsername('owner');
    const email = `${ownerName}@example.com`;
    const phone = `+1${String(Date.now()).slice(-10)}`;
    const owner = await registerUser(t.app, { username: ownerName, email, phone });
    const other = await registerUser(t.app);
    const ended = await registerUser(t.app);
    const logout = await t.app.inject({
      method: 'POST',
      url: '/v1/api/user/logout',
      headers: { token: ended.token },
    });
    expect(logout.statusCode).toBe(200);

    const seqOf = async (user: User, path: string, pushToken: string) => {
      const add = await t.app.inject({
        method: 'POST',
        url: path,
        headers: { token: user.token },
        payload: { push_token: pushToken, language: 'en', os: 'Android', push_platform: 'FCM' },
      });
      expect(add.statusCode).toBe(201);
      const list = await t.app.inject({ method: 'GET', url: path, headers: { token: user.token } });
      const rows = list.json() as Array<{ seq: number; push_token: string }>;
      const row = rows.find((entry) => entry.push_token === pushToken);
      if (row === undefined) throw new Error(`no row for ${pushToken}`);
      return row.seq;
    };
    const seqs = {
      ring: await seqOf(owner, channels[0].path, 'owner-ring-token'),
      message: await seqOf(owner, channels[1].path, 'owner-message-token'),
      otherRing: await seqOf(other, channels[0].path, 'other-ring-token'),
      otherMessage: await seqOf(other, channels[1].path, 'other-message-token'),
    };
    await seqOf(owner, channels[0].path, 'owner-second-ring-token');
    world = { owner: { ...owner, email, phone }, other, endedToken: ended.token, seqs };
  });
  afterAll(async () => t.close());

  /**
   * The tables as the seeding left them; each case compares the tables after its request with
   * it (one snapshot per case, not two). A case that changed them moves it, so that a failure
   * stays with the case that caused it.
   */
  let unchanged: TablesSnapshot | undefined;

  it.each(cases)('$name', async (c) => {
    const headers: Record<string, string> = { ...resolve(c.headers, world) };
    const body = c.body === undefined ? undefined : resolve(c.body, world);
    if (c.contentType !== null && (c.contentType !== undefined || body !== undefined)) {
      headers['content-type'] = c.contentType ?? 'application/json';
    }
    unchanged ??= await snapshotTables(t.database.handle.db);
    const before = unchanged;
    const response = await t.app.inject({
      method: c.method,
      url: resolve(c.url, world),
      headers,
      ...(body === undefined ? {} : { payload: body }),
    });
    const after = await snapshotTables(t.database.handle.db);
    unchanged = after;

    expect(response.statusCode, response.body.slice(0, 300)).toBe(c.expected.status);
    if ('body' in c.expected) {
      expect(response.json()).toStrictEqual(c.expected.body);
      assertErrorResponse(response);
    }
    expect(after).toStrictEqual(before);
  });

  it('left the seeded data and the owner’s session intact, and polluted no prototype', async () => {
    const snapshot = await snapshotTables(t.database.handle.db);
    expect(snapshot.users.length).toBe(3);
    expect(snapshot.registrations.map((row) => row.push_token).sort()).toEqual([
      'other-message-token',
      'other-ring-token',
      'owner-message-token',
      'owner-ring-token',
      'owner-second-ring-token',
    ]);
    const profile = await t.app.inject({
      method: 'GET',
      url: '/v1/api/user',
      headers: { token: world.owner.token },
    });
    expect(profile.statusCode).toBe(200);
    const login = await t.app.inject({
      method: 'POST',
      url: '/v1/api/user/login',
      payload: { username: world.owner.username, password: world.owner.password },
    });
    expect(login.statusCode).toBe(201);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
    expect(Object.keys(Object.prototype)).toEqual([]);
  });
});

describe.each(testDialects())('URLs the router cannot decode on %s', (dialect) => {
  let t: TestApp;
  let token: string;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    token = (await registerUser(t.app)).token;
  });
  afterAll(async () => t.close());

  // Fastify answers these before routing; without the `frameworkErrors` mapping its own body
  // would echo the URL with a code outside the catalogue.
  it.each([
    ['a bad percent-encoding in seq', '/v1/api/user/token/%ZZ'],
    ['a lone percent sign in seq', '/v1/api/user/message/token/%'],
    ['a seq over 100 characters', `/v1/api/user/token/${'1'.repeat(101)}`],
    ['a bad percent-encoding elsewhere', '/v1/api/%E0%A4%A'],
  ])('%s gets a catalogue error that does not echo the URL', async (_label, url) => {
    const response = await t.app.inject({
      method: 'DELETE',
      url,
      headers: { token, 'content-type': 'application/json' },
    });
    expect(response.statusCode).toBe(404);
    assertErrorResponse(response);
    expect(response.json()).toEqual({ message: 'no func', code: 'ROUTE_NOT_FOUND' });
    expect(response.body).not.toContain(url.slice(-3));
  });
});

describe.each(testDialects())('a server error on %s', (dialect) => {
  const internal = '{"message":"server error","code":"INTERNAL"}';

  it('answers exactly {"message":"server error","code":"INTERNAL"}, without stack or SQL', async () => {
    const t = await createTestApp(dialect);
    try {
      const user = await registerUser(t.app);
      // A table disappears under the running app: the driver's error names it in SQL terms.
      await sql`drop table registrations`.execute(t.database.handle.db);
      const list = await t.app.inject({
        method: 'GET',
        url: '/v1/api/user/token',
        headers: { token: user.token },
      });
      expect(list.statusCode).toBe(500);
      expect(list.headers['content-type']).toMatch(/^application\/json/);
      expect(list.body).toBe(internal);

      // Then the whole database goes away.
      await t.database.handle.close();
      const requests = [
        { method: 'GET', url: '/v1/api/user', headers: { token: user.token } },
        {
          method: 'POST',
          url: '/v1/api/user/login',
          payload: { username: user.username, password: user.password },
        },
        {
          method: 'POST',
          url: '/v1/api/user',
          payload: { username: uniqueUsername(), password: 'long enough pw' },
        },
        { method: 'POST', url: '/v1/api/user/reflash', payload: { reflash_key: user.reflash_key } },
      ] as const;
      for (const request of requests) {
        const response = await t.app.inject(request);
        expect(response.statusCode, `${request.method} ${request.url}`).toBe(500);
        expect(response.body).toBe(internal);
        assertErrorResponse(response);
      }
      const ready = await t.app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      expect((ready.json() as { code: string }).code).toBe('SERVICE_UNAVAILABLE');
      expect(ready.body).not.toMatch(/destroyed|pool|sqlite|select|relation|stack|Error/i);
    } finally {
      await t.close();
    }
  });
});
