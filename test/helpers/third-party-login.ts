/** What the third-party login e2e tests share: the fake providers, a clock, an app and its checks. */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import type { Dialect } from '../../src/db/database.js';
import { type LoginProviderFakes, startLoginProviderFakes } from '../fakes/login-providers.js';
import { createTestApp, json, type LoginBody, type TestApp } from './app.js';
import { ManualClock } from './clock.js';
import { assertErrorResponse } from './error-contract.js';

export const id = (prefix: string) => `${prefix}${randomBytes(8).toString('hex')}`;

/** The app of the running describe block, configured for every provider's fake. */
export let t: TestApp;
export let fakes: LoginProviderFakes;
/** The clock of the app and the fakes; a new one for each describe block. */
export let clock: ManualClock;

/** Fakes and an app for the calling describe block; every fake answers again before each test. */
export function useLoginTestbed(dialect: Dialect): void {
  beforeAll(async () => {
    clock = new ManualClock();
    fakes = await startLoginProviderFakes(() => clock.now());
    t = await createTestApp(dialect, fakes.environment, { clock });
  });
  afterAll(async () => {
    await t.close();
    await fakes.close();
  });
  beforeEach(() => {
    for (const fake of [fakes.weixin.http, fakes.facebook.http, fakes.apple.http, fakes.google.http]) {
      fake.mode = 'up';
    }
  });
}

export const login = (provider: string, payload: Record<string, unknown>) =>
  t.app.inject({ method: 'POST', url: `/v1/api/user/${provider}/app/login`, payload });
export const counts = async () => {
  const db = t.database.handle.db;
  const users = await db
    .selectFrom('users')
    .select(db.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  const identities = await db
    .selectFrom('identities')
    .select(db.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  const sessions = await db
    .selectFrom('sessions')
    .select(db.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return { users: Number(users.n), identities: Number(identities.n), sessions: Number(sessions.n) };
};
export const profile = (token: string) =>
  t.app.inject({ method: 'GET', url: '/v1/api/user', headers: { token } });
export const identityRow = (provider: string, subject: string) =>
  t.database.handle.db
    .selectFrom('identities')
    .selectAll()
    .where('provider', '=', provider as 'weixin')
    .where('subject', '=', subject)
    .executeTakeFirst();

/** A refused login: the status and code, a catalogue body, and nothing written. */
export async function expectRefused(
  send: () => ReturnType<typeof login>,
  status: number,
  code: string,
  message?: string,
) {
  const before = await counts();
  const response = await send();
  expect(response.statusCode, response.body).toBe(status);
  const body = assertErrorResponse(response);
  expect(body.code).toBe(code);
  if (message !== undefined) expect(body.message).toBe(message);
  expect(await counts()).toEqual(before);
  return body;
}

export function expectLoginBody(response: Awaited<ReturnType<typeof login>>): LoginBody {
  expect(response.statusCode, response.body).toBe(201);
  const body = json<LoginBody>(response);
  expect(Object.keys(body).sort()).toEqual(['expires_in', 'id', 'message', 'reflash_key', 'time', 'token']);
  expect(body).toMatchObject({ message: 'success', expires_in: 30 * 24 * 3600 });
  expect(body.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(body.time).toBe(Math.floor(clock.now() / 1000) + 30 * 24 * 3600);
  return body;
}
