import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { bulkSeed } from '../../bench/lib/bulk-seed.js';
import { createDatabase, type DatabaseHandle } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { TEST_APNS_BUNDLE_ID, testApnsTokenCredentials } from '../fakes/apns-fixtures.js';
import { type FakeApns, startFakeApns } from '../fakes/apns-server.js';
import { testDialects } from '../helpers/app.js';
import { startThrowawayRedis, type ThrowawayRedis, testRedisPrefix } from '../helpers/redis.js';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import { eventually } from '../helpers/wait.js';

/**
 * Scale-out on the real PostgreSQL and Redis: 2 API and 2 worker processes (src/main.ts, as
 * `npm start` runs it) share one schema and one Redis (a throwaway redis-server of this test,
 * so that it can be killed). The fake APNs counts what it accepted per apns-id (= delivery id).
 * The fake shares this process, and the machine's two cores, with everything else: the clean
 * run sends CLUSTER_USERS (2,000) deliveries, the fault runs 1,000 each, so that answers stay
 * within the adapter's timeout. bench/scale.ts sends 10,000 through the same processes and
 * counts each apns-id.
 */
const adminKey = `bh_${randomBytes(30).toString('base64url')}`;
const bundle = TEST_APNS_BUNDLE_ID;
const USERS = Number(process.env.CLUSTER_USERS ?? 2_000);
const MINUTE = 60_000;

const runs = testDialects().includes('postgres') && inject('redisUrl') !== '';

async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${adminKey}`, ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe.skipIf(!runs)('2 API + 2 worker processes on PostgreSQL and Redis', () => {
  let fake: FakeApns;
  let redis: ThrowawayRedis;
  let database: DatabaseHandle;
  let schema: string;
  let applicationName: string;
  let environment: Record<string, string>;
  const apis: ServerProcess[] = [];
  const workers: ServerProcess[] = [];
  let userIds: number[] = [];
  let ringUser = 0;
  /** 200 answers of the fake, per apns-id (recounted: answers come after arrival). */
  let accepted = new Map<string, number>();
  const recount = () => {
    const counts = new Map<string, number>();
    for (const request of fake.received) {
      const id = request.headers['apns-id'];
      if (request.answer.status === 200 && typeof id === 'string') counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    accepted = counts;
    return counts;
  };
  const postgresUrl = inject('postgresUrl');

  async function terminateConnections(): Promise<number> {
    const admin = new pg.Client({ connectionString: postgresUrl });
    await admin.connect();
    const result = await admin.query(
      'select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1',
      [applicationName],
    );
    await admin.end();
    return result.rowCount ?? 0;
  }

  /** Sends a message to `users`, pages of 1,000 alternating between the API processes. */
  async function send(users: number[], extra: Record<string, unknown> = {}): Promise<string[]> {
    const ids: string[] = [];
    for (let index = 0; index < users.length; index += 1000) {
      const api = apis[(index / 1000) % apis.length];
      if (api === undefined) throw new Error('no API process');
      const sent = await call(api.url, 'POST', '/v1/push', {
        channel: 'message',
        users: users.slice(index, index + 1000),
        title: 'Motion',
        body: 'Motion at the front door',
        ...extra,
      });
      expect(sent.status, JSON.stringify(sent.body)).toBe(202);
      ids.push(String(sent.body.id));
    }
    return ids;
  }

  async function deliveryIdsOf(notifications: string[]): Promise<string[]> {
    const rows = await database.db
      .selectFrom('deliveries')
      .select('id')
      .where('notification_id', 'in', notifications)
      .execute();
    return rows.map((row) => row.id);
  }

  /** Waits until the fake accepted every delivery of the notifications; their ids. */
  async function allAccepted(notifications: string[], boundMs = 120_000): Promise<string[]> {
    const ids = await deliveryIdsOf(notifications);
    try {
      await eventually(
        async () => (ids.every((id) => recount().has(id)) ? true : undefined),
        'deliveries',
        boundMs,
      );
    } catch {
      const answers = new Map<number, number>();
      for (const request of fake.received)
        answers.set(request.answer.status, (answers.get(request.answer.status) ?? 0) + 1);
      throw new Error(
        `${ids.filter((id) => accepted.has(id)).length} of ${ids.length} deliveries at the fake; ` +
          `states ${JSON.stringify(await states(notifications))}; answers ${JSON.stringify([...answers])}\n` +
          workers.map((worker) => worker.output().slice(-3000)).join('\n---\n'),
      );
    }
    // Anything sent twice would arrive about now.
    await new Promise((resolve) => setTimeout(resolve, 500));
    recount();
    return ids;
  }

  async function states(notifications: string[]): Promise<Record<string, number>> {
    const rows = await database.db
      .selectFrom('deliveries')
      .select(['status', (eb) => eb.fn.countAll<number>().as('count')])
      .where('notification_id', 'in', notifications)
      .groupBy('status')
      .execute();
    return Object.fromEntries(rows.map((row) => [row.status, Number(row.count)]));
  }

  beforeAll(async () => {
    fake = await startFakeApns({ tokenUpdateMinIntervalMs: 20 * MINUTE });
    fake.on('request', (request) => {
      const id = request.headers['apns-id'];
      if (request.answer.status === 200 && typeof id === 'string')
        accepted.set(id, (accepted.get(id) ?? 0) + 1);
    });
    redis = await startThrowawayRedis();
    schema = `bh_cluster_${randomBytes(5).toString('hex')}`;
    applicationName = schema;
    const admin = new pg.Client({ connectionString: postgresUrl });
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    await admin.end();
    database = createDatabase({ dialect: 'postgres', url: postgresUrl, poolSize: 4, schema });
    await migrateToLatest(database.db, { schema });
    const seeded = await bulkSeed(database, {
      bundleId: bundle,
      passwordHash: 'not-a-login',
      groups: [
        {
          count: USERS,
          channel: 'message',
          usernamePrefix: 'cluster_',
          token: (index) => index.toString(16).padStart(64, '0'),
        },
        { count: 1, channel: 'ring', usernamePrefix: 'cluster_ring_', token: () => 'f'.repeat(64) },
      ],
    });
    userIds = seeded[0] ?? [];
    ringUser = seeded[1]?.[0] ?? 0;
    const separator = postgresUrl.includes('?') ? '&' : '?';
    environment = {
      DATABASE_URL: `${postgresUrl}${separator}application_name=${applicationName}&options=${encodeURIComponent(`-c search_path=${schema}`)}`,
      DATABASE_POOL_SIZE: '4',
      REDIS_URL: redis.url,
      REDIS_PREFIX: testRedisPrefix('cluster'),
      QUEUE_SWEEP_SECONDS: '1',
      // Smaller batches: the fake APNs shares this test process's CPU with the test, and
      // answers that come later than the adapter's timeout would be retried (sent twice).
      WORKER_BATCH_SIZE: '200',
      // Leases are renewed every third of their length while a worker sends; 10 s leaves a worker
      // starved by this machine's other work some seconds to get a renewal through.
      WORKER_LEASE_SECONDS: process.env.CLUSTER_LEASE ?? '10',
      BELLHOP_ADMIN_KEY: adminKey,
      BELLHOP_MASTER_KEY: randomBytes(32).toString('base64'),
      ARGON2_MEMORY_KIB: '64',
      ARGON2_ITERATIONS: '1',
      RATE_LIMIT_AUTH_PER_IP: '100000',
      LOG_LEVEL: 'warn',
      SHUTDOWN_GRACE_MS: '5000',
    };
    const started = await Promise.all([
      startServerProcess({ ...environment, ROLE: 'api' }),
      startServerProcess({ ...environment, ROLE: 'api' }),
      startServerProcess({ ...environment, ROLE: 'worker' }),
      startServerProcess({ ...environment, ROLE: 'worker' }),
    ]);
    apis.push(...started.slice(0, 2));
    workers.push(...started.slice(2));
    const first = apis[0]?.url ?? '';
    const put = await call(first, 'PUT', `/v1/admin/apps/${bundle}`, {
      mode: 'live',
      apns: testApnsTokenCredentials(fake),
    });
    expect(put.status, JSON.stringify(put.body)).toBe(201);
  }, 120_000);

  afterAll(async () => {
    // Graceful stops, but a test hook does not wait for ever.
    await Promise.all(
      [...apis, ...workers].map((server) =>
        Promise.race([
          server.stop(),
          new Promise((resolve) => setTimeout(resolve, 15_000)).then(() => server.kill()),
        ]),
      ),
    );
    await redis?.stop();
    await fake?.close();
    await database?.close();
    // A connection a killed process left behind must not hold the schema's locks.
    if (applicationName !== undefined) await terminateConnections();
    const admin = new pg.Client({ connectionString: postgresUrl });
    await admin.connect();
    await admin.query(`drop schema if exists ${schema} cascade`);
    await admin.end();
  }, 120_000);

  it('delivers every delivery exactly once when nothing fails', async () => {
    const notifications = await send(userIds);
    const ids = await allAccepted(notifications);
    expect(ids).toHaveLength(USERS);
    expect(ids.filter((id) => accepted.get(id) !== 1)).toEqual([]);
    expect(await states(notifications)).toEqual({ sent: USERS });
  }, 180_000);

  it('loses nothing when a worker is killed with SIGKILL; only deliveries in flight go twice', async () => {
    const before = accepted.size;
    const notifications = await send(userIds.slice(0, 1000));
    await eventually(
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 100));
        return recount().size >= before + 100 ? true : undefined;
      },
      'the run under way',
      60_000,
    );
    const victim = workers.shift();
    await victim?.kill();
    // In flight at the crash: claimed (by either worker) and not yet recorded.
    const inFlight = new Set(
      (
        await database.db
          .selectFrom('deliveries')
          .select('id')
          .where('notification_id', 'in', notifications)
          .where('status', '=', 'sending')
          .execute()
      ).map((row) => row.id),
    );
    workers.push(await startServerProcess({ ...environment, ROLE: 'worker' }));
    await allAccepted(notifications);
    // The killed worker's deliveries go again once their lease ends.
    await eventually(
      async () => ((await states(notifications)).sent === 1000 ? true : undefined),
      'every delivery recorded as sent',
      60_000,
    );
    const ids = await allAccepted(notifications);
    // A duplicate is a delivery the killed worker had in flight, sent again under its apns-id.
    expect(ids.filter((id) => (accepted.get(id) ?? 0) > 1 && !inFlight.has(id))).toEqual([]);
    expect(ids.filter((id) => (accepted.get(id) ?? 0) > 2)).toEqual([]);
  }, 180_000);

  it('recovers by itself when Redis restarts empty in the middle of a run', async () => {
    const before = accepted.size;
    const first = await send(userIds.slice(0, 600));
    await eventually(
      async () => (recount().size >= before + 100 ? true : undefined),
      'the run under way',
      60_000,
    );
    await redis.kill();
    // Accepted while Redis is away: stored, and enqueued by the sweep once it is back.
    const during = await send(userIds.slice(600, 1000));
    await redis.start();
    const ids = await allAccepted([...first, ...during]);
    expect(ids).toHaveLength(1000);
    expect(ids.filter((id) => (accepted.get(id) ?? 0) > 2)).toEqual([]);
    expect(await states([...first, ...during])).toEqual({ sent: 1000 });
  }, 180_000);

  it('recovers by itself when the PostgreSQL connections are dropped in the middle of a run', async () => {
    const before = accepted.size;
    const notifications = await send(userIds.slice(0, 1000));
    await eventually(
      async () => (recount().size >= before + 100 ? true : undefined),
      'the run under way',
      60_000,
    );
    expect(await terminateConnections()).toBeGreaterThan(0);
    const ids = await allAccepted(notifications);
    // A delivery whose "sent" could not be recorded goes again when its lease ends.
    await eventually(
      async () => ((await states(notifications)).sent === 1000 ? true : undefined),
      'every delivery recorded as sent',
      60_000,
    );
    await allAccepted(notifications);
    expect(ids.filter((id) => (accepted.get(id) ?? 0) > 2)).toEqual([]);
  }, 180_000);

  it('delivers after an APNs outage (503, then GOAWAY) with backoff; rings past their TTL expire unsent', async () => {
    const api = apis[0]?.url ?? '';
    for (const mode of ['unavailable', 'goaway'] as const) {
      fake.setOutage(mode, 2_000);
      const ring = await call(api, 'POST', '/v1/push', {
        channel: 'ring',
        users: [ringUser],
        ttl: 2,
      });
      expect(ring.status).toBe(202);
      const notifications = await send(userIds.slice(0, 200));
      const ids = await allAccepted(notifications, 150_000);
      expect(ids.filter((id) => (accepted.get(id) ?? 0) !== 1)).toEqual([]);
      const [short] = await deliveryIdsOf([String(ring.body.id)]);
      await eventually(
        async () => ((await states([String(ring.body.id)])).expired === 1 ? true : undefined),
        'the ring to expire',
        30_000,
      );
      expect(accepted.has(short ?? '')).toBe(false);
    }
    expect(fake.received.some((request) => request.answer.status === 503)).toBe(true);
    expect(fake.stats.goaways).toBeGreaterThan(0);
  }, 360_000);

  it('no process accepts a token once its logout or password change has answered, 30 times out of 30', async () => {
    const [a, b] = apis.map((server) => server.url);
    if (a === undefined || b === undefined) throw new Error('no API processes');
    const username = `cluster_${randomBytes(4).toString('hex')}`;
    let password = 'long enough password';
    const user = await call(a, 'POST', '/v1/api/user', { username, password });
    expect(user.status).toBe(201);
    const login = async (on: string) => {
      const answer = await call(on, 'POST', '/v1/api/user/login', { username, password });
      expect(answer.status, JSON.stringify(answer.body)).toBe(201);
      return { token: String(answer.body.token), authorization: '' };
    };
    const accepted: string[] = [];
    for (let attempt = 0; attempt < 30; attempt += 1) {
      // Each way round: revoked on one process, asked of the other at once.
      const [revoking, other] = attempt % 2 === 0 ? [a, b] : [b, a];
      const token = await login(revoking);
      // The other process has the session in its cache after this.
      expect((await call(other, 'GET', '/v1/api/user', undefined, token)).status).toBe(200);
      expect((await call(revoking, 'POST', '/v1/api/user/logout', {}, token)).status).toBeLessThan(300);
      const next = await call(other, 'GET', '/v1/api/user', undefined, token);
      if (next.status !== 401) accepted.push(`logout ${attempt}: ${next.status}`);
    }
    for (let attempt = 0; attempt < 4; attempt += 1) {
      const [revoking, other] = attempt % 2 === 0 ? [a, b] : [b, a];
      const kept = await login(revoking);
      const ended = await login(other);
      expect((await call(other, 'GET', '/v1/api/user', undefined, ended)).status).toBe(200);
      const newPassword = `long enough password ${attempt}`;
      const changed = await call(
        revoking,
        'PUT',
        '/v1/api/user/password',
        { old_password: password, new_password: newPassword },
        kept,
      );
      expect(changed.status, JSON.stringify(changed.body)).toBeLessThan(300);
      password = newPassword;
      const next = await call(other, 'GET', '/v1/api/user', undefined, ended);
      if (next.status !== 401) accepted.push(`password change ${attempt}: ${next.status}`);
    }
    expect(accepted).toEqual([]);
  }, 120_000);

  it('used one APNs JWT for the key across every process, never TooManyProviderTokenUpdates', () => {
    expect(fake.distinctJwts()).toBe(1);
    expect(
      fake.received.filter((request) => request.answer.reason === 'TooManyProviderTokenUpdates'),
    ).toEqual([]);
  });
});
