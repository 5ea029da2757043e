/** One database's pass of the API benchmark: seed, baseline, Bellhop alone and during logins. */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { migrateToLatest } from '../../src/db/migrate.js';
import { repoRoot, type ServerProcess, startServer } from '../lib/children.js';
import { cleanups, gitDescription, log, machineDescription, round, sleep } from '../lib/harness.js';
import {
  loginPath,
  loginRequest,
  type RegistrationWorkload,
  registrationPath,
  registrationWorkload,
  startLoad,
} from '../lib/load.js';
import { type SeededUser, seedUsers } from '../lib/seed.js';
import { prepareStorage, type Storage } from '../lib/storage.js';
import { checksOf, type DatabaseReport } from './report.js';
import {
  benchBaseline,
  countRows,
  describeLoad,
  measureRegistrations,
  probe,
  probeRegistration,
  warmUp,
} from './runs.js';
import { baseEnvironment, type Dialect, password, serverDefaults, settings } from './settings.js';

async function seed(storage: Storage, dialect: Dialect, passwordHash: string) {
  const seedStart = performance.now();
  let users: SeededUser[];
  const database = storage.open();
  try {
    await migrateToLatest(database.db);
    users = await seedUsers({
      database,
      count: settings.users,
      password,
      passwordHash,
      sessions: serverDefaults.sessions,
      concurrency: dialect === 'sqlite' ? 1 : 16,
      usernamePrefix: 'bench_user_',
    });
  } finally {
    await database.close();
  }
  const seconds = round((performance.now() - seedStart) / 1000, 1);
  log(`seeded ${users.length.toLocaleString('en-US')} users and sessions in ${seconds} s`);
  return { users, seconds };
}

/** Bellhop, started the way `npm start` starts it. */
function startBellhop(storage: Storage): Promise<ServerProcess> {
  return startServer({
    name: 'Bellhop',
    entry: settings.bellhopEntry,
    nodeFlags: settings.cpuProfile
      ? ['--cpu-prof', `--cpu-prof-dir=${join(repoRoot, 'bench/results/profiles')}`]
      : [],
    env: {
      ...baseEnvironment(),
      ...storage.env,
      LOG_LEVEL: 'warn',
      ARGON2_MEMORY_KIB: String(serverDefaults.passwords.memoryKib),
      ARGON2_ITERATIONS: String(serverDefaults.passwords.iterations),
      PASSWORD_HASH_CONCURRENCY: String(serverDefaults.passwords.concurrency),
      // A throwaway key for a throwaway database (required with PostgreSQL, else written to DATA_DIR).
      BELLHOP_MASTER_KEY: randomBytes(32).toString('base64'),
      // The login clients all come from 127.0.0.1: lift the per-address budget for the bench.
      RATE_LIMIT_AUTH_PER_IP: '1000000000',
      SHUTDOWN_GRACE_MS: '3000',
    },
  });
}

/** Checks Bellhop answers a registration and a login as the load expects; the login's time. */
async function probeBellhop(server: ServerProcess, workload: RegistrationWorkload, users: SeededUser[]) {
  await probeRegistration(server, workload, 'Bellhop');
  workload.sent[0] = 1;
  const login = await probe(
    server.url,
    loginPath,
    { 'content-type': 'application/json' },
    JSON.stringify({ username: users[0]?.username, password }),
  );
  if (login.status !== 201) throw new Error(`Bellhop answered ${login.status} ${login.body} to a login`);
  return login.ms;
}

/** Bellhop's registration load alone, then while clients log in continuously. */
async function bellhopRuns(server: ServerProcess, workload: RegistrationWorkload, users: SeededUser[]) {
  const loginMs = await probeBellhop(server, workload, users);
  log(`Bellhop ready (one login with the real argon2 cost: ${loginMs} ms); warming up…`);
  const warm = await warmUp(server, workload);
  if (warm.ok !== workload.users) log(`  warm-up: ${describeLoad(warm)}`);

  log(`Bellhop POST ${registrationPath} — ${settings.durationSeconds} s…`);
  const bellhop = await measureRegistrations(server, workload, 'bellhop', true, 1);
  log(`  ${describeLoad(bellhop)}`);

  log(`same, while ${settings.loginClients} clients log in continuously…`);
  const logins = startLoad({
    url: server.url,
    request: loginRequest(users, password),
    connections: settings.loginClients,
    duration: settings.durationSeconds + 60,
    expectedStatus: 201,
    title: 'logins',
  });
  await sleep(1_000); // the login queue is full before the measured run starts
  const during = await measureRegistrations(server, workload, 'bellhop during logins', true, 2);
  logins.stop();
  const loginResult = await logins.done;
  log(`  ${describeLoad(during)}`);
  log(`  logins: ${describeLoad(loginResult)}`);
  return { bellhop, during, logins: { ...loginResult, probeMs: loginMs } };
}

/** The settings and the machine a report was measured with. */
function setUp(averageBodyBytes: number) {
  return {
    date: new Date().toISOString(),
    commit: gitDescription(),
    machine: machineDescription(),
    settings: {
      durationSeconds: settings.durationSeconds,
      connections: settings.connections,
      users: settings.users,
      tokensPerUser: settings.tokensPerUser,
      loginClients: settings.loginClients,
      argon2: {
        memoryKib: serverDefaults.passwords.memoryKib,
        iterations: serverDefaults.passwords.iterations,
        passwordHashConcurrency: serverDefaults.passwords.concurrency,
      },
      averageBodyBytes,
      bellhopEntry: settings.bellhopEntry,
      postgresOptions: settings.postgresOptions,
    },
  };
}

export async function benchDatabase(dialect: Dialect, passwordHash: string): Promise<DatabaseReport> {
  log(`\n=== ${dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL'} ===`);
  const storage = await prepareStorage(dialect, {
    name: 'bench',
    postgresUrl: settings.postgresUrl,
    postgresOptions: settings.postgresOptions,
    poolSize: 16,
  });
  cleanups.push(() => storage.drop());
  log(`database: ${storage.describe}`);
  const seeded = await seed(storage, dialect, passwordHash);
  const workload = registrationWorkload(seeded.users, settings.tokensPerUser);
  const averageBodyBytes = Math.round(
    workload.bodies.reduce((sum, body) => sum + Buffer.byteLength(body), 0) / workload.bodies.length,
  );

  log(`baseline (bare Fastify) — ${settings.durationSeconds} s, ${settings.connections} connections…`);
  const baselineBefore = await benchBaseline(workload);
  log(`  ${describeLoad(baselineBefore)}`);

  const server = await startBellhop(storage);
  let runs: Awaited<ReturnType<typeof bellhopRuns>>;
  let serverWarnings: string[];
  try {
    runs = await bellhopRuns(server, workload, seeded.users);
    serverWarnings = server.takeWarnings();
  } finally {
    await server.stop();
  }
  const rowsAfter = await countRows(storage, workload);
  // The load generator's own speed varies from run to run on a shared machine: the baseline
  // runs again after Bellhop, and the faster of its two runs is the one compared against.
  log('baseline again…');
  const baselineAfter = await benchBaseline(workload);
  log(`  ${describeLoad(baselineAfter)}`);
  await storage.drop(); // idempotent: the clean-up list may call it again

  const baseline = baselineAfter.rps > baselineBefore.rps ? baselineAfter : baselineBefore;
  const ratio = round(runs.bellhop.rps / baseline.rps, 3);
  const checks = checksOf(dialect, runs, ratio);
  return {
    database: dialect,
    ...setUp(averageBodyBytes),
    seed: { users: seeded.users.length, seconds: seeded.seconds },
    baseline,
    baselineRuns: [baselineBefore.rps, baselineAfter.rps].map((rps) => Math.round(rps)),
    bellhop: runs.bellhop,
    bellhopDuringLogins: runs.during,
    logins: runs.logins,
    rowsAfter,
    serverWarnings,
    ratio,
    targets: checks,
    pass: checks.every((check) => check.pass),
  };
}
