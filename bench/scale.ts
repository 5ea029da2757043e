/**
 * Scale-out benchmark: Bellhop on PostgreSQL + Redis (REDIS_URL set), as separate processes.
 *
 *   npm run bench:scale
 *
 *  (a) size — registration latency (POST /v1/api/user/token, one at a time, by logged-in
 *      users: p50/p99) and single-user ring latency (POST /v1/push to one user with one iPhone
 *      ring registration until the fake APNs receives it, matched by ring_id: p50/p99), first
 *      with BENCH_SMALL (10,000) registrations in the database, then with BENCH_REGISTRATIONS
 *      (1,000,000), bulk-seeded straight into the tables (bench/lib/bulk-seed.ts). One
 *      process, ROLE=all. Target: the large figures within 1.2× of the small ones.
 *  (b) workers — one message fanned out to BENCH_FANOUT (10,000) users, with 1 API process and
 *      1, then 2, worker processes (ROLE=api / ROLE=worker). Throughput from the 202 until the
 *      fake has every apns-id; each worker's share of the requests (by the client port of the
 *      fake's connections, mapped to the worker's pid through /proc). Targets: no worker over
 *      60 % with 2, and throughput with 2 not below throughput with 1; every apns-id once.
 *
 * The fake APNs (test/fakes/apns-server.ts) runs in this process; every process runs on the
 * same machine, so the figures show how the work is shared rather than what more machines
 * would add. Environment: BENCH_REGISTRATIONS, BENCH_SMALL, BENCH_FANOUT, BENCH_SAMPLES (2000),
 * BENCH_RINGS (300), BENCH_ROUNDS (3: fan-outs per worker count, alternating;
 * medians compared), BENCH_POSTGRES_URL, BENCH_REDIS_URL (redis://127.0.0.1:6379),
 * BENCH_POSTGRES_OPTIONS (server settings for the processes' connections, e.g.
 * `-c session_preload_libraries=auto_explain -c auto_explain.log_min_duration=20`).
 * Results: printed, and bench/results/scale.json.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { migrateToLatest } from '../src/db/migrate.js';
import { startFakeApns } from '../test/fakes/apns-server.js';
import { bulkSeed } from './lib/bulk-seed.js';
import { repoRoot, stopAll } from './lib/children.js';
import { formatJson } from './lib/harness.js';
import { realPasswordHash, seedUsers } from './lib/seed.js';
import { prepareStorage, type Storage } from './lib/storage.js';
import {
  adminKey,
  bundle,
  defaults,
  FakeArrivals,
  hex,
  log,
  password,
  ScaleBench,
  settings,
} from './scale/context.js';
import { latencyBySize } from './scale/size.js';
import { fanOutByWorkers } from './scale/workers.js';

/** Migrates and seeds the database: registrants, the ring user, the small table's users. */
async function prepare(
  storage: Storage,
  fake: Awaited<ReturnType<typeof startFakeApns>>,
): Promise<ScaleBench> {
  const database = storage.open();
  await migrateToLatest(database.db);
  const passwordHash = await realPasswordHash(defaults.passwords, password);
  const registrants = await seedUsers({
    database,
    count: 50,
    password,
    passwordHash,
    sessions: defaults.sessions,
    concurrency: 4,
    usernamePrefix: 'scale_reg_',
  });
  const seeded = await bulkSeed(database, {
    bundleId: bundle,
    passwordHash,
    groups: [
      { count: 1, channel: 'ring', usernamePrefix: 'scale_ring_', token: () => 'e'.repeat(64) },
      { count: settings.small, channel: 'message', usernamePrefix: 'scale_s_', token: (i) => hex(i, 1) },
    ],
  });
  const environment = {
    ...storage.env,
    REDIS_URL: settings.redisUrl,
    REDIS_PREFIX: `bh-bench-${randomBytes(4).toString('hex')}`,
    BELLHOP_ADMIN_KEY: adminKey,
    BELLHOP_MASTER_KEY: randomBytes(32).toString('base64'),
    LOG_LEVEL: 'warn',
    RATE_LIMIT_AUTH_PER_IP: '1000000',
  };
  return new ScaleBench(
    database,
    fake,
    new FakeArrivals(fake),
    environment,
    passwordHash,
    registrants,
    seeded[0]?.[0] ?? 0,
    (seeded[1] ?? []).slice(0, settings.fanout),
  );
}

async function main(): Promise<void> {
  log(
    `Bellhop scale bench: PostgreSQL + Redis; ${settings.small.toLocaleString('en-US')} then ` +
      `${settings.registrations.toLocaleString('en-US')} registrations; fan-out ${settings.fanout.toLocaleString('en-US')}`,
  );
  const fake = await startFakeApns({ record: false, connectionWindowSize: 16 << 20 });
  const storage = await prepareStorage('postgres', {
    name: 'scale',
    postgresUrl: settings.postgresUrl,
    postgresOptions: settings.postgresOptions,
    poolSize: 8,
  });
  try {
    const bench = await prepare(storage, fake);
    const sizes = await latencyBySize(bench);
    const workers = await fanOutByWorkers(bench);
    const report = { settings, ...sizes, ...workers, cores: cpus().length };
    mkdirSync(join(repoRoot, 'bench/results'), { recursive: true });
    const file = join(repoRoot, 'bench/results/scale.json');
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    formatJson(file);
    await bench.database.close();
  } finally {
    await stopAll();
    await storage.drop();
    await fake.close();
  }
}

try {
  await main();
} catch (error) {
  process.stderr.write(
    `\nbench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
}
