/** One database's pass of the dispatch benchmark: seed, baseline, Bellhop's runs, the report. */
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import { migrateToLatest } from '../../src/db/migrate.js';
import { testApnsTokenCredentials } from '../../test/fakes/apns-fixtures.js';
import { type FakeApns, startFakeApns } from '../../test/fakes/apns-server.js';
import { bulkSeed } from '../lib/bulk-seed.js';
import { type CpuUse, cpuMeter } from '../lib/cpu.js';
import {
  cleanups,
  gitDescription,
  log,
  machineDescription,
  number,
  otherBenchmarks,
  round,
  sleep,
} from '../lib/harness.js';
import {
  type MakerFanOutReport,
  type MakerPhones,
  measureMakerFanOut,
  seedMakerPhones,
} from '../lib/maker-fanout.js';
import { prepareStorage, type Storage } from '../lib/storage.js';
import { api, waitSettled } from './admin-api.js';
import { Arrivals } from './arrivals.js';
import { checksOf, type DatabaseReport, limitsOf } from './report.js';
import { fanOut, type MemoryReport, measureMemory, measureRings, runBaseline, startBellhop } from './runs.js';
import {
  bundle,
  type Dialect,
  MAX_STREAMS_PER_CONNECTION,
  seededToken,
  serverDefaults,
  settings,
} from './settings.js';

interface Seeded {
  fanIds: number[];
  warmIds: number[];
  ringUser: number;
  makerPhones: MakerPhones | null;
  users: number;
  seconds: number;
}

/** Seeds the fan-out users (the first N also make the throughput run), warm-up users, the ring user. */
async function seed(storage: Storage, passwordHash: string): Promise<Seeded> {
  const fanOutUsers = Math.max(settings.n, settings.memoryUsers);
  const seedStart = performance.now();
  let groups: number[][];
  let makerPhones: MakerPhones | null = null;
  const database = storage.open();
  try {
    await migrateToLatest(database.db, { schema: database.schema });
    groups = await bulkSeed(database, {
      bundleId: bundle,
      passwordHash,
      groups: [
        { count: fanOutUsers, channel: 'message', usernamePrefix: 'fan_', token: seededToken(1) },
        { count: settings.warmup, channel: 'message', usernamePrefix: 'warm_', token: seededToken(2) },
        { count: 1, channel: 'ring', usernamePrefix: 'ring_', token: seededToken(3) },
      ],
    });
    if (settings.makerPhones > 0)
      makerPhones = await seedMakerPhones(database, passwordHash, settings.makerPhones);
    // Planner statistics of tables loaded over time (autovacuum analyzes them), not of the
    // empty tables the bulk load started from: the database may run without autovacuum.
    await sql`analyze`.execute(database.db);
  } finally {
    await database.close();
  }
  const [fanIds = [], warmIds = [], ringIds = []] = groups;
  const ringUser = ringIds[0];
  if (ringUser === undefined) throw new Error('seeding made no ring user');
  const users = fanIds.length + warmIds.length + ringIds.length + (makerPhones?.users.length ?? 0);
  const seconds = round((performance.now() - seedStart) / 1000, 1);
  log(`seeded ${number(users)} users with one phone registration each in ${seconds} s`);
  return { fanIds, warmIds, ringUser, makerPhones, users, seconds };
}

/** (a) Bellhop's throughput and (b) its rings, on one server process. */
async function bellhopRuns(storage: Storage, fake: FakeApns, arrivals: Arrivals, seeded: Seeded) {
  const server = await startBellhop('Bellhop', storage);
  try {
    const put = await api(server.url, 'PUT', `/v1/admin/apps/${bundle}`, {
      name: 'Doorbell',
      mode: 'live',
      apns: testApnsTokenCredentials(fake),
    });
    if (put.status !== 201 && put.status !== 200) {
      throw new Error(`PUT /v1/admin/apps answered ${put.status} ${JSON.stringify(put.body)}`);
    }
    log(`    Bellhop ready; warming up with a message to ${number(seeded.warmIds.length)} users…`);
    await fanOut(server, arrivals, seeded.warmIds, 'warmup');
    await sleep(500);

    log(`(a) Bellhop: one message to ${number(settings.n)} users…`);
    const bellhop = await fanOut(server, arrivals, seeded.fanIds.slice(0, settings.n), 'throughput');
    log(
      `    ${number(bellhop.perSecond)} deliveries/s from the 202 (${bellhop.seconds} s; the 202 took ` +
        `${bellhop.acceptMs} ms; all recorded after ${bellhop.settledSeconds} s: ${JSON.stringify(bellhop.counts)})`,
    );

    log(`(b) rings: ${settings.ringRate}/s for ${settings.ringSeconds} s to one iPhone…`);
    await sleep(1_000);
    const rings = await measureRings(server, arrivals, seeded.ringUser);
    log(
      `    p50 ${rings.latencyMs.p50} ms, p99 ${rings.latencyMs.p99} ms, max ${rings.latencyMs.max} ms ` +
        `(${rings.received} of ${rings.rings} received)`,
    );
    return { bellhop, rings, serverWarnings: server.takeWarnings() };
  } finally {
    await server.stop();
  }
}

/** (d) A fresh Bellhop process sends one message to every maker's phones. */
async function makerRun(storage: Storage, makerPhones: MakerPhones): Promise<MakerFanOutReport<CpuUse>> {
  log(
    `(d) maker phones: a fresh Bellhop process sends one message to ${number(makerPhones.perMaker)} ` +
      'phones each of Xiaomi, Huawei and OPPO…',
  );
  const makers = await measureMakerFanOut(
    {
      startServer: () => startBellhop('Bellhop (maker run)', storage),
      api,
      waitSettled,
      cpuMeter: (pid) => cpuMeter({ server: pid }),
    },
    makerPhones,
  );
  log(
    `    ${number(makers.perSecond)} deliveries/s from the 202 (${makers.seconds} s); HTTP requests ` +
      makers.makers.map((count) => `${count.label} ${count.requests}`).join(', '),
  );
  return makers;
}

/** The settings and the machine a report was measured with. */
function setUp() {
  return {
    date: new Date().toISOString(),
    commit: gitDescription(),
    machine: machineDescription(),
    settings: {
      n: settings.n,
      memoryUsers: settings.memoryUsers,
      makerPhones: settings.makerPhones,
      ringRate: settings.ringRate,
      ringSeconds: settings.ringSeconds,
      connections: settings.connections,
      maxStreamsPerConnection: MAX_STREAMS_PER_CONNECTION,
      warmup: settings.warmup,
      bellhopEntry: settings.bellhopEntry,
      serverEnv: settings.serverEnv,
      serverNodeFlags: settings.serverNodeFlags,
      worker: {
        batchSize: Number(settings.serverEnv.WORKER_BATCH_SIZE ?? serverDefaults.delivery.batchSize),
        pollMs: Number(settings.serverEnv.WORKER_POLL_MS ?? serverDefaults.delivery.pollMs),
      },
    },
  };
}

export async function benchDatabase(dialect: Dialect, passwordHash: string): Promise<DatabaseReport> {
  log(`\n=== ${dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL'} ===`);
  const others = otherBenchmarks();
  if (others.length > 0)
    log(`Warning: another benchmark is running; figures will be disturbed:\n  ${others.join('\n  ')}`);
  const storage = await prepareStorage(dialect, {
    name: 'dispatch',
    postgresUrl: settings.postgresUrl,
    postgresOptions: settings.postgresOptions,
    poolSize: 4,
  });
  cleanups.push(() => storage.drop());
  log(`database: ${storage.describe}`);
  const seeded = await seed(storage, passwordHash);

  const fake = await startFakeApns({ record: false, connectionWindowSize: 16 << 20 });
  cleanups.push(() => fake.close());
  const arrivals = new Arrivals(fake);
  log(
    `(a) baseline: plain node:http2 client, ${settings.connections} connections, ${number(settings.n)} pushes…`,
  );
  const baseline = await runBaseline(fake, arrivals);
  log(
    `    ${number(baseline.perSecond)} deliveries/s (${baseline.seconds} s; ${baseline.client.ok} answered 200, ` +
      `up to ${baseline.client.maxInFlight} streams in flight per connection)`,
  );
  const { bellhop, rings, serverWarnings } = await bellhopRuns(storage, fake, arrivals, seeded);

  let memory: MemoryReport | null = null;
  if (settings.memoryUsers > 0) {
    log(`(c) memory: a fresh Bellhop process fans one message out to ${number(settings.memoryUsers)} users…`);
    memory = await measureMemory(storage, arrivals, seeded.fanIds.slice(0, settings.memoryUsers));
    log(
      `    peak RSS ${memory.vmHwmMb} MiB (VmHWM; idle ${memory.idleRssMb} MiB), ${number(memory.perSecond)} deliveries/s, ` +
        `the 202 took ${memory.acceptMs} ms`,
    );
  }
  await fake.close();
  const makers = seeded.makerPhones === null ? null : await makerRun(storage, seeded.makerPhones);
  await storage.drop();

  const runs = { baseline, bellhop, rings, memory, makers };
  const checks = checksOf(runs);
  return {
    database: dialect,
    ...setUp(),
    otherBenchmarksRunning: [...new Set([...others, ...otherBenchmarks()])],
    seed: { users: seeded.users, registrations: seeded.users, seconds: seeded.seconds },
    ...runs,
    ratio: round(bellhop.perSecond / baseline.perSecond, 3),
    limits: limitsOf(runs),
    serverWarnings: [...serverWarnings, ...(makers?.serverWarnings ?? [])],
    targets: checks,
    pass: checks.every((check) => check.pass),
  };
}
