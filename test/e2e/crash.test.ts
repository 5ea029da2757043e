import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type FakeFcm, startFakeFcm } from '../fakes/fcm-server.js';
import { testDialects } from '../helpers/app.js';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import { eventually } from '../helpers/wait.js';

const adminKey = `bh_${randomBytes(30).toString('base64url')}`;
const bundle = 'com.example.crash';

async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe.each(testDialects())('a worker killed with SIGKILL on %s', (dialect) => {
  let fake: FakeFcm;
  let environment: Record<string, string>;
  let cleanup: () => Promise<void>;
  let server: ServerProcess | undefined;

  beforeAll(async () => {
    fake = await startFakeFcm();
    environment = {
      BELLHOP_ADMIN_KEY: adminKey,
      BELLHOP_MASTER_KEY: randomBytes(32).toString('base64'),
      ARGON2_MEMORY_KIB: '64',
      ARGON2_ITERATIONS: '1',
      RATE_LIMIT_AUTH_PER_IP: '100000',
      WORKER_LEASE_SECONDS: '5',
      WORKER_POLL_MS: '100',
      LOG_LEVEL: 'warn',
    };
    if (dialect === 'sqlite') {
      const dir = mkdtempSync(join(tmpdir(), 'bellhop-crash-'));
      environment.DATA_DIR = dir;
      cleanup = async () => rmSync(dir, { recursive: true, force: true });
    } else {
      const url = inject('postgresUrl');
      const schema = `bh_crash_${randomBytes(6).toString('hex')}`;
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      await admin.query(`create schema ${schema}`);
      await admin.end();
      const separator = url.includes('?') ? '&' : '?';
      environment.DATABASE_URL = `${url}${separator}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
      cleanup = async () => {
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        await client.query(`drop schema ${schema} cascade`);
        await client.end();
      };
    }
  });
  afterAll(async () => {
    await server?.stop();
    await fake.close();
    await cleanup();
  });

  it('delivers every accepted delivery after a restart; only deliveries in flight go twice', async () => {
    server = await startServerProcess(environment);
    const admin = { authorization: `Bearer ${adminKey}` };
    const put = await call(
      server.url,
      'PUT',
      `/v1/admin/apps/${bundle}`,
      { mode: 'live', fcm: fake.credentials() },
      admin,
    );
    expect(put.status).toBe(201);

    const tokens: string[] = [];
    const userIds: number[] = [];
    for (let i = 0; i < 20; i += 1) {
      const user = await call(server.url, 'POST', '/v1/api/user', {
        username: `crash_user_${i}`,
        password: 'long enough password',
      });
      expect(user.status).toBe(201);
      const pushToken = `crash-token-${i}`;
      const registered = await call(
        server.url,
        'POST',
        '/v1/api/user/token',
        { push_token: pushToken, language: 'en', bundleid: bundle, push_platform: 'FCM' },
        { token: String(user.body.token) },
      );
      expect(registered.status).toBe(201);
      tokens.push(pushToken);
      userIds.push(Number(user.body.id));
    }

    // The fake takes requests but answers none: the deliveries are in flight at the crash.
    fake.pause();
    const rings: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      const sent = await call(
        server.url,
        'POST',
        '/v1/push',
        { channel: 'ring', users: userIds, ttl: 600, body: `ring ${i}` },
        admin,
      );
      expect(sent.status).toBe(202);
      expect(sent.body.targets).toBe(20);
      rings.push(String(sent.body.id));
    }
    await eventually(async () => (fake.received.length >= 10 ? true : undefined), 'deliveries in flight');
    await server.kill();
    const inFlight = new Set(
      fake.received.map(
        (entry) =>
          `${(entry.body as { message: { data: Record<string, string> } }).message.data.ring_id}/${entry.token}`,
      ),
    );
    const receivedBeforeRestart = fake.received.length;
    fake.resume();

    server = await startServerProcess(environment);
    const base = server.url;
    for (const id of rings) {
      const view = await eventually(
        async () => {
          const result = await call(base, 'GET', `/v1/push/${id}`, undefined, admin);
          return result.body.state === 'done' ? result.body : undefined;
        },
        `ring ${id} to be delivered after the restart`,
        60_000,
      );
      expect(view.counts).toEqual({ sent: 20 });
    }

    const arrivals = new Map<string, number>();
    for (const entry of fake.received.slice(receivedBeforeRestart)) {
      const key = `${(entry.body as { message: { data: Record<string, string> } }).message.data.ring_id}/${entry.token}`;
      arrivals.set(key, (arrivals.get(key) ?? 0) + 1);
    }
    for (const id of rings) {
      for (const token of tokens) {
        const key = `${id}/${token}`;
        // Every delivery reached the fake: after the restart, or (answered late) before it;
        // one that was not in flight at the crash went exactly once.
        expect(arrivals.has(key) || inFlight.has(key), key).toBe(true);
        expect(arrivals.get(key) ?? 0, key).toBe(inFlight.has(key) ? (arrivals.get(key) ?? 0) : 1);
        expect(arrivals.get(key) ?? 0, key).toBeLessThanOrEqual(1);
      }
    }
  }, 180_000);
});
