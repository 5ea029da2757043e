import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, registerUser, type TestApp, testDialects } from '../helpers/app.js';
import { assertErrorResponse } from '../helpers/error-contract.js';

/**
 * Text with NUL and integers outside 64 bits are refused with a 400 on both databases, on
 * every route: PostgreSQL cannot store the one and overflows on the other, where SQLite
 * accepted both.
 */
describe.each(testDialects())('NUL characters and out-of-range integers on %s', (dialect) => {
  let t: TestApp;
  let authorization: string;
  let token: string;
  let notification: string;

  beforeAll(async () => {
    t = await createTestApp(dialect);
    authorization = `Bearer ${(await t.services.apiKeys.create('admin', ['admin'])).key}`;
    const user = await registerUser(t.app);
    token = user.token;
    const sent = await t.app.inject({
      method: 'POST',
      url: '/v1/push',
      headers: { authorization },
      payload: { channel: 'message', users: [user.id], title: 'hello' },
    });
    expect(sent.statusCode, sent.body).toBe(202);
    notification = (sent.json() as { id: string }).id;
  });
  afterAll(async () => {
    await t.close();
  });

  const push = (fields: Record<string, unknown>) => ({
    method: 'POST' as const,
    url: '/v1/push',
    payload: { channel: 'message', users: [1], ...fields },
  });

  const cases: Array<[string, () => InjectOptions, string]> = [
    ['a user id of 1e20', () => push({ users: [1e20] }), 'FIELD_INVALID'],
    ['a user id of 2^63', () => push({ users: [2 ** 63] }), 'FIELD_INVALID'],
    ['NUL in idempotency_key', () => push({ idempotency_key: 'k\u0000' }), 'FIELD_INVALID'],
    ['NUL in bundleid', () => push({ bundleid: 'com.example\u0000' }), 'FIELD_INVALID'],
    ['NUL in collapse_id', () => push({ collapse_id: '\u0000' }), 'FIELD_INVALID'],
    ['NUL in a data key', () => push({ data: { 'a\u0000': 'b' } }), 'FIELD_INVALID'],
    ['NUL in a data value', () => push({ data: { a: 'b\u0000' } }), 'FIELD_INVALID'],
    [
      'NUL in the deliveries page cursor',
      () => ({ method: 'GET', url: `/v1/push/${notification}?after=%00` }),
      'FIELD_INVALID',
    ],
    [
      'NUL in an API key name',
      () => ({ method: 'POST', url: '/v1/admin/keys', payload: { name: 'k\u0000', scopes: ['send'] } }),
      'FIELD_INVALID',
    ],
    [
      'NUL in an app name',
      () => ({ method: 'PUT', url: '/v1/admin/apps/com.example.nul', payload: { name: 'n\u0000' } }),
      'FIELD_INVALID',
    ],
  ];

  it.each(cases)('refuses %s with a 400', async (_case, request, code) => {
    const response = await t.app.inject({
      ...request(),
      headers: { authorization, 'content-type': 'application/json' },
    });
    expect(response.statusCode, response.body).toBe(400);
    expect(assertErrorResponse(response).code).toBe(code);
  });

  it.each([
    ['a user name', { username: 'nul\u0000name', password: 'correct horse battery' }],
    ['a password', { username: 'nulpassword', password: 'correct\u0000horse' }],
    ['an e-mail', { username: 'nulmail', password: 'correct horse battery', email: 'a\u0000@example.com' }],
  ])('refuses NUL in %s at registration', async (_case, payload) => {
    const response = await t.app.inject({ method: 'POST', url: '/v1/api/user', payload });
    expect(response.statusCode, response.body).toBe(400);
    assertErrorResponse(response);
  });

  it('refuses NUL in a push token and an out-of-range user id at registration of a token', async () => {
    for (const payload of [
      { push_token: 'tok\u0000en', language: 'en' },
      { push_token: 'token-ok', language: 'en', id: 2 ** 64 },
    ]) {
      const response = await t.app.inject({
        method: 'POST',
        url: '/v1/api/user/message/token',
        headers: { token },
        payload,
      });
      expect(response.statusCode, response.body).toBe(400);
      assertErrorResponse(response);
    }
  });

  it('still takes ordinary text and the largest ids', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/v1/push',
      headers: { authorization },
      payload: { channel: 'message', users: [2 ** 53 - 1], collapse_id: 'ok ü 🚪', data: { a: 'b' } },
    });
    expect(response.statusCode, response.body).toBe(202);
  });
});
