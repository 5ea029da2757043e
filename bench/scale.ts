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
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import { loadConfig } from '../src/config.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { TEST_APNS_BUNDLE_ID, testApnsTokenCredentials } from '../test/fakes/apns-fixtures.js';
import { startFakeApns } from '../test/fakes/apns-server.js';
import { bulkSeed } from './lib/bulk-seed.js';
import {
  machineCpuSeconds,
  NPM_START,
  postgresCpuSeconds,
  processCpuSeconds,
  repoRoot,
  type ServerProcess,
  startServer,
  stopAll,
} from './lib/children.js';
import { realPasswordHash, seedUsers } from './lib/seed.js';
import { integerSetting } from './lib/settings.js';
import { prepareStorage } from './lib/storage.js';

const setting = (name: string, fallback: number) => integerSetting(name, fallback, 1);
const settings = {
  registrations: setting('BENCH_REGISTRATIONS', 1_000_000),
  small: setting('BENCH_SMALL', 10_000),
  fanout: setting('BENCH_FANOUT', 10_000),
  samples: setting('BENCH_SAMPLES', 2_000),
  rings: setting('BENCH_RINGS', 300),
  /** Fan-outs per worker count, alternating 1 and 2 workers; medians are compared. */
  rounds: setting('BENCH_ROUNDS', 3),
  postgresUrl: process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  redisUrl: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
  postgresOptions: process.env.BENCH_POSTGRES_OPTIONS ?? '',
};
const bundle = TEST_APNS_BUNDLE_ID;
const adminKey = `bh_${randomBytes(30).toString('base64url')}`;
const password = 'correct horse battery staple';
const defaults = loadConfig({});
const log = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;
/** A 64-hex-digit APNs device token, distinct per (salt, index). */
const hex = (index: number, salt: number) => `${salt.toString(16)}${index.toString(16).padStart(63, '0')}`;

/** CPU seconds the processes in `after` used since `before` (a process new since then: all of its own). */
const usedSince = (before: Map<number, number>, after: Map<number, number>) =>
  [...after].reduce((sum, [pid, seconds]) => sum + seconds - (before.get(pid) ?? 0), 0);

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return (
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN
  );
}

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

/** The local TCP ports of a process's sockets (from /proc), to tell which process sent what. */
function portsOf(pid: number): Set<number> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match?.[1] !== undefined) inodes.add(match[1]);
    } catch {
      // closed meanwhile
    }
  }
  const ports = new Set<number>();
  for (const table of ['tcp', 'tcp6']) {
    for (const line of readFileSync(`/proc/${pid}/net/${table}`, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const port = fields[1]?.split(':')[1];
      if (port !== undefined && fields[9] !== undefined && inodes.has(fields[9]))
        ports.add(Number.parseInt(port, 16));
    }
  }
  return ports;
}

async function main(): Promise<void> {
  log(
    `Bellhop scale bench: PostgreSQL + Redis; ${settings.small.toLocaleString('en-US')} then ` +
      `${settings.registrations.toLocaleString('en-US')} registrations; fan-out ${settings.fanout.toLocaleString('en-US')}`,
  );
  const fake = await startFakeApns({ record: false, connectionWindowSize: 16 << 20 });
  const rings = new Map<string, number>();
  const arrivals = new Map<string, number | undefined>();
  let counting = false;
  /** Requests for an apns-id already seen during the fan-out (a delivery sent twice). */
  let repeats = 0;
  fake.on('request', (request) => {
    const data = request.payload as { ring_id?: unknown } | undefined;
    if (typeof data?.ring_id === 'string') rings.set(data.ring_id, request.at);
    const id = request.headers['apns-id'];
    if (counting && typeof id === 'string') {
      if (arrivals.has(id)) repeats += 1;
      else arrivals.set(id, request.remotePort);
    }
  });
  const storage = await prepareStorage('postgres', {
    name: 'scale',
    postgresUrl: settings.postgresUrl,
    postgresOptions: settings.postgresOptions,
    poolSize: 8,
  });
  const servers: ServerProcess[] = [];
  try {
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
    const ringUser = seeded[0]?.[0] ?? 0;
    const fanoutUsers = (seeded[1] ?? []).slice(0, settings.fanout);
    const environment = {
      ...storage.env,
      REDIS_URL: settings.redisUrl,
      REDIS_PREFIX: `bh-bench-${randomBytes(4).toString('hex')}`,
      BELLHOP_ADMIN_KEY: adminKey,
      BELLHOP_MASTER_KEY: randomBytes(32).toString('base64'),
      LOG_LEVEL: 'warn',
      RATE_LIMIT_AUTH_PER_IP: '1000000',
    };
    const start = async (name: string, role: string) => {
      const server = await startServer({ name, entry: NPM_START, env: { ...environment, ROLE: role } });
      servers.push(server);
      return server;
    };
    const stop = async () => {
      await Promise.all(servers.splice(0).map((server) => server.stop()));
    };

    let sample = 0;
    const measure = async (label: string) => {
      const server = await start(`bellhop-${label}`, 'all');
      const put = await call(server.url, 'PUT', `/v1/admin/apps/${bundle}`, {
        mode: 'live',
        apns: testApnsTokenCredentials(fake),
      });
      if (put.status !== 201 && put.status !== 200) throw new Error(`PUT app: ${put.status}`);
      const registration: number[] = [];
      for (let index = 0; index < settings.samples; index += 1) {
        const user = registrants[index % registrants.length];
        sample += 1;
        const began = performance.now();
        const answer = await call(
          server.url,
          'POST',
          '/v1/api/user/token',
          { push_token: hex(sample, 7), language: 'en', bundleid: bundle },
          { token: user?.token ?? '', authorization: '' },
        );
        registration.push(performance.now() - began);
        if (answer.status !== 201)
          throw new Error(`registration: ${answer.status} ${JSON.stringify(answer.body)}`);
      }
      const ring: number[] = [];
      for (let index = 0; index < settings.rings + 5; index += 1) {
        const began = performance.now();
        const sent = await call(server.url, 'POST', '/v1/push', { channel: 'ring', users: [ringUser] });
        const id = String(sent.body.id);
        const deadline = began + 10_000;
        while (!rings.has(id) && performance.now() < deadline) await sleep(1);
        const at = rings.get(id);
        if (at === undefined) throw new Error(`ring ${id} did not arrive`);
        if (index >= 5) ring.push(at - began); // the first few warm connections up
        await sleep(20);
      }
      await stop();
      const figures = {
        registrations: Number(
          (
            await database.db
              .selectFrom('registrations')
              .select((eb) => eb.fn.countAll<number>().as('n'))
              .executeTakeFirst()
          )?.n ?? 0,
        ),
        registrationP50Ms: round(percentile(registration, 50)),
        registrationP99Ms: round(percentile(registration, 99)),
        ringP50Ms: round(percentile(ring, 50)),
        ringP99Ms: round(percentile(ring, 99)),
      };
      log(`  ${label}: ${JSON.stringify(figures)}`);
      return figures;
    };

    // Both sizes are measured in a steady state, as autovacuum and the checkpointer would have
    // left a table loaded over time, not in the minutes of write-back right after a bulk load.
    const settle = async () => {
      await sql`vacuum analyze`.execute(database.db);
      await sql`checkpoint`.execute(database.db).catch(() => undefined);
    };
    log('\n(a) latency by database size');
    await settle();
    const small = await measure('small');
    const seedStart = performance.now();
    const more = settings.registrations - small.registrations;
    for (let done = 0; done < more; done += 100_000) {
      await bulkSeed(database, {
        bundleId: bundle,
        passwordHash,
        groups: [
          {
            count: Math.min(100_000, more - done),
            channel: 'message',
            usernamePrefix: `scale_l${done}_`,
            token: (i) => hex(done + i, 2),
          },
        ],
      });
    }
    await settle();
    log(
      `  seeded ${more.toLocaleString('en-US')} more registrations in ${round((performance.now() - seedStart) / 1000, 1)} s`,
    );
    const large = await measure('large');
    const ratios = {
      registrationP99: round(large.registrationP99Ms / small.registrationP99Ms),
      ringP50: round(large.ringP50Ms / small.ringP50Ms),
      ringP99: round(large.ringP99Ms / small.ringP99Ms),
    };
    log(`  ratios large/small: ${JSON.stringify(ratios)} (target ≤ 1.2)`);

    log('\n(b) fan-out with 1 and 2 worker processes');
    const runs: Array<Record<string, unknown>> = [];
    const counts = Array.from({ length: settings.rounds }, () => [1, 2]).flat();
    /** One fan-out to every fan-out user, timed from the 202 until the fake has every apns-id. */
    const fanOut = async (api: ServerProcess, workers: ServerProcess[]) => {
      arrivals.clear();
      repeats = 0;
      counting = true;
      const cpuBefore = workers.map((worker) => processCpuSeconds(worker.pid) ?? 0);
      const apiBefore = processCpuSeconds(api.pid) ?? 0;
      const postgresBefore = postgresCpuSeconds();
      const machineBefore = machineCpuSeconds();
      const ownBefore = process.cpuUsage();
      const began = performance.now();
      const sent = await call(api.url, 'POST', '/v1/push', {
        channel: 'message',
        users: fanoutUsers,
        title: 'Firmware',
        body: 'An update is ready',
      });
      if (sent.status !== 202) throw new Error(`fan-out: ${sent.status}`);
      const accepted = performance.now();
      const deadline = began + 600_000;
      while (arrivals.size < fanoutUsers.length && performance.now() < deadline) await sleep(20);
      const seconds = (performance.now() - accepted) / 1000;
      const elapsed = (performance.now() - began) / 1000;
      const machineAfter = machineCpuSeconds();
      const own = process.cpuUsage(ownBefore);
      const share = (cpuSeconds: number) => round(cpuSeconds / elapsed, 2);
      // Cores kept busy during the fan-out, of the machine's (what limits the throughput).
      const cores = {
        machine:
          machineBefore === undefined || machineAfter === undefined
            ? null
            : round(
                ((machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total)) *
                  cpus().length,
                2,
              ),
        workers: share(
          workers.reduce(
            (sum, worker, index) => sum + (processCpuSeconds(worker.pid) ?? 0) - (cpuBefore[index] ?? 0),
            0,
          ),
        ),
        api: share((processCpuSeconds(api.pid) ?? 0) - apiBefore),
        postgres: share(usedSince(postgresBefore, postgresCpuSeconds())),
        fakeApnsAndBench: share((own.user + own.system) / 1e6),
      };
      await sleep(1_000); // a delivery sent twice would arrive about now
      counting = false;
      const shares = workers.map((worker) => {
        const ports = portsOf(worker.pid);
        let n = 0;
        for (const port of arrivals.values()) if (port !== undefined && ports.has(port)) n += 1;
        return round(n / Math.max(1, arrivals.size), 3);
      });
      const cpu = workers.map((worker, index) =>
        round((processCpuSeconds(worker.pid) ?? 0) - (cpuBefore[index] ?? 0), 1),
      );
      return {
        workers: workers.length,
        delivered: arrivals.size,
        sentTwice: repeats,
        seconds: round(seconds, 2),
        perSecond: Math.round(arrivals.size / seconds),
        shares,
        workerCpuSeconds: cpu,
        cores,
      };
    };
    for (const count of counts) {
      // Rounds follow each other within seconds, faster than autovacuum: each starts from the
      // table as autovacuum would leave it, not from the dead rows of the rounds before (which
      // would weigh on whichever worker count comes later).
      await settle();
      const api = await start('api', 'api');
      const workers = [];
      for (let index = 0; index < count; index += 1)
        workers.push(await start(`worker-${index + 1}`, 'worker'));
      await sleep(1_000);
      // Workers are long-lived: a first, unmeasured fan-out takes fresh processes past their
      // start-up (code not yet optimised, connections not yet open), which otherwise weighs
      // twice with two fresh processes.
      await fanOut(api, workers);
      const run = await fanOut(api, workers);
      log(`  ${JSON.stringify(run)}`);
      runs.push(run);
      await stop();
    }
    const median = (values: number[]) => percentile(values, 50);
    const perSecond = (count: number) =>
      runs.filter((run) => run.workers === count).map((run) => Number(run.perSecond));
    const one = median(perSecond(1));
    const two = median(perSecond(2));
    const maxShare = Math.max(
      ...runs.filter((run) => run.workers === 2).flatMap((run) => run.shares as number[]),
    );
    log(
      `  median throughput: 1 worker ${one}/s, 2 workers ${two}/s; 2 / 1: ${round(two / one)} (target ≥ 1); ` +
        `largest share with 2: ${maxShare} (target ≤ 0.6)`,
    );
    const report = {
      settings,
      small,
      large,
      ratios,
      fanout: runs,
      fanoutMedians: { oneWorker: one, twoWorkers: two, ratio: round(two / one), largestShare: maxShare },
      cores: cpus().length,
    };
    mkdirSync(join(repoRoot, 'bench/results'), { recursive: true });
    const file = join(repoRoot, 'bench/results/scale.json');
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    // Laid out as Biome would (bench/ is linted).
    execFileSync(join(repoRoot, 'node_modules/.bin/biome'), ['format', '--write', file], { stdio: 'ignore' });
    await database.close();
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
