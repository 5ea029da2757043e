import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { expect } from 'vitest';
import type { Dialect } from '../../src/db/database.js';
import { type LoginProviderFakes, startLoginProviderFakes } from '../fakes/login-providers.js';
import { createTestApp, type TestApp, uniqueUsername } from './app.js';
import { ManualClock } from './clock.js';
import { assertErrorResponse } from './error-contract.js';
import { channelPaths, type Parts, payloadOf, Ref, type RefName } from './fuzz-bodies.js';
import type { FuzzRequest } from './fuzz-requests.js';

/**
 * Property-based fuzzing of the whole HTTP surface against a test app whose login providers are
 * configured against local fakes, so third-party bodies reach verification. Whatever comes in,
 * the answer is below 500 and every error is a catalogue `{message, code}`.
 *
 * Reproducible: FUZZ_SEED and FUZZ_RUNS override the fixed defaults; a failure prints the
 * seed and the shrunk request.
 */

function integerFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value)) throw new Error(`${name} must be an integer, got ${raw}`);
  return value;
}

export const seed = integerFromEnv('FUZZ_SEED', 20261130);
export const numRuns = integerFromEnv('FUZZ_RUNS', 300);
/** FUZZ_STATS=1 prints how often each route/status/code came up, to check what the runs reach. */
const printStats = process.env.FUZZ_STATS === '1';

/** A vitest timeout that grows with the number of runs. */
export const fuzzTimeout = (runs: number) => Math.max(60_000, runs * 400);

interface Identity {
  username: string;
  password: string;
  token: string;
  reflash_key: string;
  user_id: number;
}

/** A test app under fuzzing, with a live user, an admin API key and a sent notification. */
export class FuzzTarget {
  private readonly stats = new Map<string, number>();

  private constructor(
    private readonly t: TestApp,
    private readonly fakes: LoginProviderFakes,
    private identity: Identity,
    private readonly apiKey: string,
    private readonly notification: string,
  ) {}

  static async start(dialect: Dialect): Promise<FuzzTarget> {
    const clock = new ManualClock();
    const fakes = await startLoginProviderFakes(() => clock.now());
    const t = await createTestApp(
      dialect,
      {
        ...fakes.environment,
        RATE_LIMIT_FAILURES_PER_ACCOUNT_IP: '1000000',
        RATE_LIMIT_FAILURES_PER_ACCOUNT: '1000000',
      },
      { clock },
    );
    const identity = await register(t);
    const apiKey = (await t.services.apiKeys.create('fuzz', ['admin'])).key;
    const sent = await t.app.inject({
      method: 'POST',
      url: '/v1/push',
      headers: { authorization: `Bearer ${apiKey}` },
      payload: { channel: 'message', users: [identity.user_id], title: 'fuzz' },
    });
    expect(sent.statusCode).toBe(202);
    const notification = (sent.json() as { id: string }).id;
    return new FuzzTarget(t, fakes, identity, apiKey, notification);
  }

  async close(): Promise<void> {
    await this.t.close();
    await this.fakes.close();
  }

  /** Sends each request; fails on a 5xx, an error outside the catalogue or a polluted prototype. */
  answersWell(arbitrary: fc.Arbitrary<FuzzRequest>) {
    return fc.asyncProperty(arbitrary, async (request) => {
      const { options, response } = await this.send(request);
      if (printStats) {
        const route =
          response.statusCode === 404 ? 'unmatched' : `${options.method} ${request.route.path[0]}`;
        const code = /"code":"([A-Z_]+)"/.exec(response.body)?.[1] ?? '';
        const key = `${route} ${response.statusCode} ${code}`;
        this.stats.set(key, (this.stats.get(key) ?? 0) + 1);
      }
      const context = `${options.method} ${options.url} → ${response.statusCode} ${response.body.slice(0, 200)}`;
      if (response.statusCode >= 500) throw new Error(`server error: ${context}`);
      if (response.statusCode >= 400 && options.method !== 'HEAD') {
        try {
          assertErrorResponse(response);
        } catch (error) {
          throw new Error(`${(error as Error).message}\n  request: ${context}`);
        }
      }
      if (Object.keys(Object.prototype).length > 0 || ({} as Record<string, unknown>).admin !== undefined) {
        throw new Error(`Object.prototype polluted by ${context}`);
      }
    });
  }

  /** With FUZZ_STATS=1, prints the outcomes counted so far. */
  printStats(dialect: Dialect): void {
    if (!printStats) return;
    const lines = [...this.stats]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, n]) => `${String(n).padStart(6)} ${key}`);
    process.stdout.write(`\nfuzz outcomes on ${dialect}:\n${lines.join('\n')}\n`);
  }

  /** The app still serves a session and is ready. */
  async expectStillServing(): Promise<void> {
    const who = await this.liveIdentity();
    const response = await this.t.app.inject({
      method: 'GET',
      url: '/v1/api/user',
      headers: { token: who.token },
    });
    expect(response.statusCode).toBe(200);
    const ready = await this.t.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
  }

  /** A live session for the next run: the last one, a new login, or a new user. */
  private async liveIdentity(): Promise<Identity> {
    const probe = await this.t.app.inject({
      method: 'GET',
      url: '/v1/api/user',
      headers: { token: this.identity.token },
    });
    if (probe.statusCode === 200) return this.identity;
    const login = await this.t.app.inject({
      method: 'POST',
      url: '/v1/api/user/login',
      payload: { username: this.identity.username, password: this.identity.password },
    });
    if (login.statusCode === 201) {
      const body = login.json() as { token: string; reflash_key: string };
      this.identity = { ...this.identity, token: body.token, reflash_key: body.reflash_key };
    } else {
      this.identity = await register(this.t);
    }
    return this.identity;
  }

  private async lookup(name: RefName, who: Identity): Promise<string | number> {
    if (name === 'api_key') return this.apiKey;
    if (name === 'notification') return this.notification;
    if (name !== 'seq') return who[name];
    const row = await this.t.database.handle.db
      .selectFrom('registrations')
      .select('seq')
      .where('user_id', '=', who.user_id)
      .orderBy('seq')
      .executeTakeFirst();
    return row?.seq ?? 1;
  }

  private async render(parts: Parts, who: Identity): Promise<string> {
    const pieces = await Promise.all(
      parts.map(async (part) => (part instanceof Ref ? String(await this.lookup(part.name, who)) : part)),
    );
    return pieces.join('');
  }

  private async send(request: FuzzRequest) {
    const who = await this.liveIdentity();
    const headers: Record<string, string> = { ...request.extraHeaders };
    if (request.token !== null) headers.token = await this.render(request.token, who);
    if (request.authorization !== null) headers.authorization = await this.render(request.authorization, who);
    const path = await this.render(request.route.path, who);
    const values = new Map<RefName, string | number>();
    for (const name of ['token', 'reflash_key', 'username', 'password', 'user_id', 'api_key'] as const) {
      values.set(name, await this.lookup(name, who));
    }
    const { payload } = payloadOf(request.body, values, { method: request.route.method, path });
    const contentType =
      request.contentType === 'auto'
        ? payload === undefined
          ? null
          : 'application/json'
        : request.contentType;
    if (contentType !== null) headers['content-type'] = contentType;
    const options: InjectOptions = {
      method: request.route.method as InjectOptions['method'],
      url: path + request.query,
      headers,
      ...(payload === undefined ? {} : { payload }),
    };
    return { options, response: await this.t.app.inject(options) };
  }
}

async function register(t: TestApp): Promise<Identity> {
  const username = uniqueUsername('fuzz');
  const password = 'correct horse battery';
  const response = await t.app.inject({
    method: 'POST',
    url: '/v1/api/user',
    payload: { username, password },
  });
  expect(response.statusCode).toBe(201);
  const body = response.json() as { id: number; token: string; reflash_key: string };
  for (const path of channelPaths) {
    const add = await t.app.inject({
      method: 'POST',
      url: path,
      headers: { token: body.token },
      payload: { push_token: `fuzz-${body.id}-${path.length}`, language: 'en' },
    });
    expect(add.statusCode).toBe(201);
  }
  return { username, password, token: body.token, reflash_key: body.reflash_key, user_id: body.id };
}
