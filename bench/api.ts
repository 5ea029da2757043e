/**
 * HTTP benchmark of Bellhop's hot path, `POST /v1/api/user/token` (register a phone's push
 * token), against a bare Fastify baseline, on SQLite and PostgreSQL.
 *
 *   npm run bench:api                      # both databases when PostgreSQL answers, else SQLite
 *   npm run bench:api -- --db sqlite       # or postgres, or both
 *   npm run bench:api -- --db both --strict   # exit code 1 when a target fails
 *
 * Environment: BENCH_DB (same as --db), BENCH_DURATION_SECONDS (10), BENCH_CONNECTIONS (64),
 * BENCH_USERS (10000), BENCH_TOKENS_PER_USER (3), BENCH_LOGIN_CLIENTS (16),
 * BENCH_POSTGRES_URL (postgres://postgres@127.0.0.1:5432/test), BENCH_STRICT=1,
 * BENCH_CPU_PROF=1 (V8 CPU profile of the Bellhop server in bench/results/profiles/),
 * BENCH_BELLHOP_ENTRY (default: Bellhop as `npm start` runs it; a .ts file runs through tsx: point it
 * at a patched copy of src/main.ts to measure a change),
 * BENCH_POSTGRES_OPTIONS (added to the server's PostgreSQL `options`, e.g. `-c synchronous_commit=off`).
 *
 * For each database, in one run:
 *  1. seeds 10,000 users with one session each through Bellhop's accounts service (every user
 *     stores a real argon2id hash at the server's settings, computed once);
 *  2. baseline: a bare Fastify app in a child process, same JSON bodies in, same 201 body out
 *     (run again after Bellhop; the faster of the two runs is compared against);
 *  3. Bellhop, started the real way (as `npm start`: the built bundle, configured by environment)
 *     in a child process: a warm-up that sends every session once, then the registration load
 *     (random user, random one of the user's few push tokens: inserts and updates), then the
 *     same load while 16 clients log in continuously at the real argon2 cost.
 * Everything listens on and targets 127.0.0.1; children die with the bench. Results are
 * printed as a table for the README and written to bench/results/api-<db>.json.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { postgresProblem } from '../test/helpers/postgres.js';
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
import {
  type LoadResult,
  loginPath,
  loginRequest,
  type PathCounts,
  type RegistrationWorkload,
  registrationPath,
  registrationRequest,
  registrationWorkload,
  startLoad,
} from './lib/load.js';
import { realPasswordHash, type SeededUser, seedUsers } from './lib/seed.js';
import { argument, integerSetting } from './lib/settings.js';
import { prepareStorage, type Storage } from './lib/storage.js';

type Dialect = 'sqlite' | 'postgres';

// ---------------------------------------------------------------------------------------------
// Settings

const settings = {
  durationSeconds: integerSetting('BENCH_DURATION_SECONDS', 10, 1),
  connections: integerSetting('BENCH_CONNECTIONS', 64, 1),
  users: integerSetting('BENCH_USERS', 10_000, 1),
  tokensPerUser: integerSetting('BENCH_TOKENS_PER_USER', 3, 1),
  loginClients: integerSetting('BENCH_LOGIN_CLIENTS', 16, 1),
  postgresUrl: process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  strict: process.argv.includes('--strict') || process.env.BENCH_STRICT === '1',
  /** Writes a V8 CPU profile of each Bellhop server to bench/results/profiles/. */
  cpuProfile: process.env.BENCH_CPU_PROF === '1',
  /** Another Bellhop entry point (a patched copy of src/main.ts), to measure a change A/B. */
  bellhopEntry: process.env.BENCH_BELLHOP_ENTRY ?? NPM_START,
  /** Extra PostgreSQL settings for Bellhop's connections, e.g. `-c synchronous_commit=off`. */
  postgresOptions: process.env.BENCH_POSTGRES_OPTIONS ?? '',
};

/** The issue's targets. */
const targets = {
  ratio: { sqlite: 0.5, postgres: 0.35 } satisfies Record<Dialect, number>,
  p99Ms: 30,
  p99UnderLoginsFactor: 2,
};

/** The server's own defaults (OWASP argon2id: 19 MiB, t=2, one hash at a time), set explicitly. */
const serverDefaults = loadConfig({});
const password = 'correct horse battery staple';

// ---------------------------------------------------------------------------------------------
// Clean-up: children are killed in children.ts; schemas and temporary directories here.

const cleanups: Array<() => Promise<void>> = [];

async function runCleanups(): Promise<void> {
  while (cleanups.length > 0) {
    const cleanup = cleanups.pop();
    try {
      await cleanup?.();
    } catch (error) {
      process.stderr.write(`clean-up failed: ${String(error)}\n`);
    }
  }
}

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write(`\n${signal}: stopping the servers and cleaning up…\n`);
    stopAll()
      .then(runCleanups)
      .then(
        () => process.exit(130),
        () => process.exit(130),
      );
  });
}

// ---------------------------------------------------------------------------------------------
// Helpers

/**
 * The servers' environment starts empty rather than from this shell's, so that a DATABASE_URL,
 * AUTH_CACHE_TTL_SECONDS or ARGON2_* exported for development cannot change what is measured.
 */
function baseEnvironment(): Record<string, string | undefined> {
  const { PATH, HOME, TMPDIR, LANG } = process.env;
  return { PATH, HOME, TMPDIR, LANG, NODE_ENV: 'production' };
}

const log = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

async function chooseDialects(): Promise<Dialect[]> {
  const wanted = argument('db') ?? process.env.BENCH_DB;
  if (wanted !== undefined && !['sqlite', 'postgres', 'both'].includes(wanted)) {
    throw new Error(`--db must be sqlite, postgres or both (got ${JSON.stringify(wanted)})`);
  }
  if (wanted === 'sqlite') return ['sqlite'];
  const problem = await postgresProblem(settings.postgresUrl);
  if (wanted === undefined) {
    if (problem === undefined) return ['sqlite', 'postgres'];
    log(
      `Note: PostgreSQL at ${settings.postgresUrl} does not answer (${problem}); benchmarking SQLite only.`,
    );
    log('      Set BENCH_POSTGRES_URL or pass --db sqlite to silence this.\n');
    return ['sqlite'];
  }
  if (problem !== undefined)
    throw new Error(`PostgreSQL at ${settings.postgresUrl} does not answer: ${problem}`);
  return wanted === 'both' ? ['sqlite', 'postgres'] : ['postgres'];
}

function gitDescription(): string | undefined {
  try {
    const run = (args: string[]) => execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8' }).trim();
    const commit = run(['rev-parse', '--short', 'HEAD']);
    return run(['status', '--porcelain', '--', 'src']) === '' ? commit : `${commit} (src modified)`;
  } catch {
    return undefined;
  }
}

interface CpuUse {
  /** Cores the server process kept busy on average (1 = one core all the time). */
  serverCores: number | null;
  /** Cores this process (the load generator) kept busy. */
  loadGeneratorCores: number;
  /** Cores the machine's `postgres` processes kept busy (any client's, not only Bellhop's). */
  postgresCores: number | null;
  /** Cores busy on the whole machine, of `machineCores`. */
  machineBusyCores: number | null;
  /** What is left: other processes (a noisy neighbour makes every figure less reliable). */
  otherCores: number | null;
  machineCores: number;
}

function cpuMeter(pid: number): () => CpuUse {
  const start = performance.now();
  const server = processCpuSeconds(pid);
  const postgres = postgresCpuSeconds();
  const machine = machineCpuSeconds();
  const own = process.cpuUsage();
  const cores = cpus().length;
  return () => {
    const seconds = (performance.now() - start) / 1000;
    const serverEnd = processCpuSeconds(pid);
    const machineEnd = machineCpuSeconds();
    const ownUsed = process.cpuUsage(own);
    let postgresUsed = 0;
    for (const [postgresPid, used] of postgresCpuSeconds())
      postgresUsed += used - (postgres.get(postgresPid) ?? 0);
    const machineShare =
      machine === undefined || machineEnd === undefined || machineEnd.total === machine.total
        ? null
        : (machineEnd.busy - machine.busy) / (machineEnd.total - machine.total);
    const serverCores =
      server === undefined || serverEnd === undefined ? null : (serverEnd - server) / seconds;
    const loadGeneratorCores = (ownUsed.user + ownUsed.system) / 1e6 / seconds;
    const postgresCores = machine === undefined ? null : postgresUsed / seconds;
    const machineBusyCores = machineShare === null ? null : machineShare * cores;
    const otherCores =
      machineBusyCores === null || serverCores === null
        ? null
        : Math.max(0, machineBusyCores - serverCores - loadGeneratorCores - (postgresCores ?? 0));
    const r = (value: number | null) => (value === null ? null : round(value));
    return {
      serverCores: r(serverCores),
      loadGeneratorCores: round(loadGeneratorCores),
      postgresCores: r(postgresCores),
      machineBusyCores: r(machineBusyCores),
      otherCores: r(otherCores),
      machineCores: cores,
    };
  };
}

interface EventLoopDelay {
  /** Event-loop delay beyond prom-client's 10 ms sampling timer, in ms. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/**
 * Bellhop's own event-loop delay histogram (prom-client's default metrics, reset at every
 * scrape): scraped once before a run (reset) and once after it (the run's figures).
 */
async function scrapeEventLoopDelay(server: ServerProcess): Promise<EventLoopDelay | null> {
  try {
    const response = await fetch(`${server.url}/metrics`, { signal: AbortSignal.timeout(5_000) });
    const text = await response.text();
    const value = (name: string) => {
      const match = new RegExp(
        `^bellhop_nodejs_eventloop_lag_${name}_seconds(?:\\{[^}]*\\})? (\\S+)$`,
        'm',
      ).exec(text);
      return match?.[1] === undefined ? Number.NaN : Number(match[1]);
    };
    const resolutionMs = 10;
    const beyond = (seconds: number) => round(Math.max(0, seconds * 1000 - resolutionMs));
    const [p50, p99, max] = [value('p50'), value('p99'), value('max')];
    if (![p50, p99, max].every(Number.isFinite)) return null;
    return { p50Ms: beyond(p50), p99Ms: beyond(p99), maxMs: beyond(max) };
  } catch {
    return null;
  }
}

/** One request, to check a server answers what the load expects before loading it. */
async function probe(
  url: string,
  path: string,
  headers: Record<string, string>,
  body: string,
): Promise<{ status: number; body: string; ms: number }> {
  const start = performance.now();
  const response = await fetch(`${url}${path}`, { method: 'POST', headers, body });
  const text = await response.text();
  return { status: response.status, body: text, ms: round(performance.now() - start) };
}

// ---------------------------------------------------------------------------------------------
// Storage per database

// ---------------------------------------------------------------------------------------------
// The runs

interface RunReport extends LoadResult {
  cpu: CpuUse;
  /**
   * Server CPU milliseconds per answered request: the cost of a request, which a busy machine
   * disturbs much less than req/s (the server's off-CPU waits — fsync, a lock — are not in it).
   */
  serverCpuMsPerRequest: number | null;
  eventLoop?: EventLoopDelay | null;
  paths?: PathCounts;
}

interface DatabaseReport {
  database: Dialect;
  date: string;
  commit: string | undefined;
  machine: { cpus: number; cpuModel: string; node: string; platform: string };
  settings: {
    durationSeconds: number;
    connections: number;
    users: number;
    tokensPerUser: number;
    loginClients: number;
    argon2: { memoryKib: number; iterations: number; passwordHashConcurrency: number };
    averageBodyBytes: number;
    bellhopEntry: string;
    postgresOptions: string;
  };
  seed: { users: number; seconds: number };
  /** The faster of the two baseline runs (before and after Bellhop's): the one compared against. */
  baseline: RunReport;
  baselineRuns: number[];
  bellhop: RunReport;
  bellhopDuringLogins: RunReport;
  logins: LoadResult & { probeMs: number };
  rowsAfter: { registrations: number; tokensSent: number; sessions: number };
  serverWarnings: string[];
  ratio: number;
  targets: Array<{ name: string; target: string; value: string; pass: boolean }>;
  pass: boolean;
}

function describeLoad(result: LoadResult): string {
  const unexpected = Object.entries(result.unexpected)
    .map(([status, count]) => `${count}×${status}`)
    .join(', ');
  return (
    `${Math.round(result.rps).toLocaleString('en-US')} req/s, p50 ${result.latency.p50} ms, ` +
    `p99 ${result.latency.p99} ms, max ${result.latency.max} ms` +
    (unexpected === '' ? '' : `, unexpected: ${unexpected}`) +
    (result.errors > 0 ? `, ${result.errors} errors (${result.timeouts} timeouts)` : '')
  );
}

async function measureRegistrations(
  server: ServerProcess,
  workload: RegistrationWorkload,
  title: string,
  withMetrics: boolean,
  seed: number,
): Promise<RunReport> {
  const paths: PathCounts = { inserts: 0, updates: 0 };
  if (withMetrics) await scrapeEventLoopDelay(server);
  const meter = cpuMeter(server.pid);
  const result = await startLoad({
    url: server.url,
    request: registrationRequest(workload, {
      mode: 'random',
      seed,
      ...(withMetrics ? { counts: paths } : {}),
    }),
    connections: settings.connections,
    duration: settings.durationSeconds,
    expectedStatus: 201,
    title,
  }).done;
  const cpu = meter();
  const eventLoop = withMetrics ? await scrapeEventLoopDelay(server) : undefined;
  const serverCpuMsPerRequest =
    cpu.serverCores === null || result.rps === 0 ? null : round((cpu.serverCores * 1000) / result.rps, 3);
  return { ...result, cpu, serverCpuMsPerRequest, ...(withMetrics ? { eventLoop, paths } : {}) };
}

async function warmUp(server: ServerProcess, workload: RegistrationWorkload): Promise<LoadResult> {
  // Every session once (its first push token): JIT warmed, and each token in the auth cache,
  // as it is for a phone that calls again within AUTH_CACHE_TTL_SECONDS.
  return startLoad({
    url: server.url,
    request: registrationRequest(workload, { mode: 'sequential', counts: { inserts: 0, updates: 0 } }),
    connections: settings.connections,
    amount: workload.users,
    expectedStatus: 201,
    title: 'warm-up',
  }).done;
}

async function benchBaseline(workload: RegistrationWorkload): Promise<RunReport> {
  const server = await startServer({
    name: 'baseline',
    entry: 'bench/baseline-server.ts',
    env: baseEnvironment(),
  });
  try {
    const first = await probe(
      server.url,
      registrationPath,
      { ...workload.headers[0] },
      workload.bodies[0] ?? '',
    );
    if (first.status !== 201 || first.body !== '{"message":"success"}') {
      throw new Error(`baseline answered ${first.status} ${first.body}`);
    }
    await startLoad({
      url: server.url,
      request: registrationRequest(workload, { mode: 'sequential' }), // no counts: marks nothing sent
      connections: settings.connections,
      amount: workload.users,
      expectedStatus: 201,
      title: 'baseline warm-up',
    }).done;
    return await measureRegistrations(server, workload, 'baseline', false, 1);
  } finally {
    await server.stop();
  }
}

async function benchDatabase(dialect: Dialect, passwordHash: string): Promise<DatabaseReport> {
  const label = dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL';
  log(`\n=== ${label} ===`);
  const storage = await prepareStorage(dialect, {
    name: 'bench',
    postgresUrl: settings.postgresUrl,
    postgresOptions: settings.postgresOptions,
    poolSize: 16,
  });
  cleanups.push(() => storage.drop());
  log(`database: ${storage.describe}`);

  // 1. Seed.
  const seedStart = performance.now();
  let users: SeededUser[];
  {
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
  }
  const seedSeconds = round((performance.now() - seedStart) / 1000, 1);
  log(`seeded ${users.length.toLocaleString('en-US')} users and sessions in ${seedSeconds} s`);
  const workload = registrationWorkload(users, settings.tokensPerUser);
  const averageBodyBytes = Math.round(
    workload.bodies.reduce((sum, body) => sum + Buffer.byteLength(body), 0) / workload.bodies.length,
  );

  // 2. Baseline.
  log(`baseline (bare Fastify) — ${settings.durationSeconds} s, ${settings.connections} connections…`);
  const baselineBefore = await benchBaseline(workload);
  log(`  ${describeLoad(baselineBefore)}`);

  // 3. Bellhop, started the way `npm start` starts it.
  const server = await startServer({
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
  let report: DatabaseReport;
  try {
    const first = await probe(
      server.url,
      registrationPath,
      { ...workload.headers[0] },
      workload.bodies[0] ?? '',
    );
    if (first.status !== 201 || first.body !== '{"message":"success"}') {
      throw new Error(`Bellhop answered ${first.status} ${first.body} to a registration`);
    }
    workload.sent[0] = 1;
    const login = await probe(
      server.url,
      loginPath,
      { 'content-type': 'application/json' },
      JSON.stringify({ username: users[0]?.username, password }),
    );
    if (login.status !== 201) throw new Error(`Bellhop answered ${login.status} ${login.body} to a login`);
    log(`Bellhop ready (one login with the real argon2 cost: ${login.ms} ms); warming up…`);
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

    await server.stop();
    const rowsAfter = await countRows(storage, workload);
    // The load generator's own speed varies from run to run on a shared machine: the baseline
    // runs again after Bellhop, and the faster of its two runs is the one compared against.
    log('baseline again…');
    const baselineAfter = await benchBaseline(workload);
    log(`  ${describeLoad(baselineAfter)}`);
    const baseline = baselineAfter.rps > baselineBefore.rps ? baselineAfter : baselineBefore;
    const ratio = round(bellhop.rps / baseline.rps, 3);
    const checks = [
      {
        name: 'Bellhop / baseline throughput',
        target: `>= ${targets.ratio[dialect]}`,
        value: String(ratio),
        pass: ratio >= targets.ratio[dialect],
      },
      {
        name: 'registration p99',
        target: `<= ${targets.p99Ms} ms`,
        value: `${bellhop.latency.p99} ms`,
        pass: bellhop.latency.p99 <= targets.p99Ms,
      },
      {
        name: `registration p99 while ${settings.loginClients} clients log in`,
        target: `<= ${targets.p99UnderLoginsFactor} × ${bellhop.latency.p99} ms`,
        value: `${during.latency.p99} ms (${round(during.latency.p99 / bellhop.latency.p99)}×)`,
        pass: during.latency.p99 <= targets.p99UnderLoginsFactor * bellhop.latency.p99,
      },
      {
        name: 'every Bellhop answer as expected',
        target: '201, no errors',
        value: `${[bellhop, during, loginResult].reduce((sum, run) => sum + run.requests - run.ok + run.errors, 0)} of ${number([bellhop, during, loginResult].reduce((sum, run) => sum + run.requests, 0))} not`,
        pass: [bellhop, during, loginResult].every((run) => run.requests === run.ok && run.errors === 0),
      },
    ];
    report = {
      database: dialect,
      date: new Date().toISOString(),
      commit: gitDescription(),
      machine: {
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
        node: process.version,
        platform: `${process.platform} ${process.arch}`,
      },
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
      seed: { users: users.length, seconds: seedSeconds },
      baseline,
      baselineRuns: [baselineBefore.rps, baselineAfter.rps].map((rps) => Math.round(rps)),
      bellhop,
      bellhopDuringLogins: during,
      logins: { ...loginResult, probeMs: login.ms },
      rowsAfter,
      serverWarnings: server.takeWarnings(),
      ratio,
      targets: checks,
      pass: checks.every((check) => check.pass),
    };
  } finally {
    await server.stop();
  }
  await storage.drop(); // idempotent: the clean-up list may call it again
  return report;
}

/** After the runs: every distinct token sent must be one row (the upserts did not lose or double any). */
async function countRows(storage: Storage, workload: RegistrationWorkload) {
  const database = storage.open();
  try {
    const count = async (table: 'registrations' | 'sessions') =>
      Number(
        (
          await database.db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    return {
      registrations: await count('registrations'),
      tokensSent: workload.sent.reduce((sum, sent) => sum + sent, 0),
      sessions: await count('sessions'),
    };
  } finally {
    await database.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Output

const number = (value: number) => Math.round(value).toLocaleString('en-US');
const cores = (value: number | null) => (value === null ? 'n/a' : `${Math.round(value * 100)}%`);
const unexpectedCount = (run: LoadResult) => String(run.requests - run.ok + run.errors);

function summary(report: DatabaseReport): string {
  const label = report.database === 'sqlite' ? 'SQLite' : 'PostgreSQL';
  const s = report.settings;
  const row = (name: string, run: LoadResult, cpu?: CpuUse) =>
    `| ${name} | ${number(run.rps)} | ${run.latency.p50} | ${run.latency.p99} | ${unexpectedCount(run)} | ` +
    (cpu === undefined
      ? '| | | |'
      : `${cores(cpu.serverCores)} | ${cores(cpu.postgresCores)} | ${cores(cpu.loadGeneratorCores)} | ${cores(cpu.otherCores)} |`);
  const paths = report.bellhop.paths;
  const insertShare =
    paths === undefined ? 0 : Math.round((100 * paths.inserts) / (paths.inserts + paths.updates));
  const runs = [report.baseline, report.bellhop, report.bellhopDuringLogins];
  const noisiest = Math.max(...runs.map((run) => run.cpu.otherCores ?? 0));
  const lines = [
    `#### ${label} — ${report.date.slice(0, 10)}, ${report.machine.cpus} × ${report.machine.cpuModel}, Node ${report.machine.node}${report.commit === undefined ? '' : `, ${report.commit}`}`,
    '',
    `${s.connections} connections, ${s.durationSeconds} s per run, ${number(s.users)} users with one session each, ` +
      `${s.tokensPerUser} push tokens per user, ${s.averageBodyBytes}-byte bodies; load generator, servers and database share the machine ` +
      `(CPU: 100% = one core of ${report.machine.cpus}).` +
      (s.bellhopEntry === NPM_START ? '' : ` **Bellhop entry: ${s.bellhopEntry}.**`) +
      (s.postgresOptions === '' ? '' : ` **PostgreSQL options: ${s.postgresOptions}.**`),
    '',
    '| run | req/s | p50 ms | p99 ms | non-201 | server CPU | postgres CPU | load-gen CPU | other CPU |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    row(
      `baseline: bare Fastify, same JSON in, same 201 out (faster of ${report.baselineRuns.map(number).join(' and ')} req/s)`,
      report.baseline,
      report.baseline.cpu,
    ),
    row(`Bellhop \`POST ${registrationPath}\``, report.bellhop, report.bellhop.cpu),
    row(
      `Bellhop, while ${s.loginClients} clients log in`,
      report.bellhopDuringLogins,
      report.bellhopDuringLogins.cpu,
    ),
    row(
      `↳ the logins (argon2id ${s.argon2.memoryKib} KiB, t=${s.argon2.iterations}, ${s.argon2.passwordHashConcurrency} at a time)`,
      report.logins,
    ),
    '',
    '| target | wanted | measured | |',
    '|---|---|---|---|',
    ...report.targets.map(
      (check) => `| ${check.name} | ${check.target} | ${check.value} | ${check.pass ? 'PASS' : 'FAIL'} |`,
    ),
    '',
    `Registrations: ${insertShare}% new tokens (insert), ${100 - insertShare}% known ones (update); ` +
      `${number(report.rowsAfter.registrations)} rows for ${number(report.rowsAfter.tokensSent)} distinct tokens sent. ` +
      `Bellhop event-loop delay p99 ${report.bellhop.eventLoop?.p99Ms ?? 'n/a'} ms without logins, ` +
      `${report.bellhopDuringLogins.eventLoop?.p99Ms ?? 'n/a'} ms with them. ` +
      `Server CPU per request: baseline ${report.baseline.serverCpuMsPerRequest ?? 'n/a'} ms, ` +
      `Bellhop ${report.bellhop.serverCpuMsPerRequest ?? 'n/a'} ms.`,
    ...(noisiest > 0.25
      ? [
          '',
          `Warning: other processes kept up to ${cores(noisiest)} of a core busy during these runs; ` +
            'the machine was not quiet and the figures are noisy.',
        ]
      : []),
  ];
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const dialects = await chooseDialects();
  log(
    `Bellhop API bench: ${dialects.join(' + ')}; ${settings.connections} connections, ${settings.durationSeconds} s per run` +
      (settings.durationSeconds < 10 ? ' (shorter than the 10 s the targets are defined for)' : ''),
  );
  const hashStart = performance.now();
  const passwordHash = await realPasswordHash(serverDefaults.passwords, password);
  log(
    `password hash for every seeded user: argon2id m=${serverDefaults.passwords.memoryKib} KiB, ` +
      `t=${serverDefaults.passwords.iterations} (${round(performance.now() - hashStart, 0)} ms)`,
  );

  const reports: DatabaseReport[] = [];
  for (const dialect of dialects) reports.push(await benchDatabase(dialect, passwordHash));

  const resultsDir = join(repoRoot, 'bench/results');
  mkdirSync(resultsDir, { recursive: true });
  log('\n==================== summary ====================\n');
  for (const report of reports) {
    const file = join(resultsDir, `api-${report.database}.json`);
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    log(summary(report));
    if (report.serverWarnings.length > 0) {
      log(
        `\nBellhop logged ${report.serverWarnings.length} warning(s)/error(s), e.g.:\n${report.serverWarnings[0]}`,
      );
    }
    log(`\n(${file})\n`);
  }
  const failed = reports.filter((report) => !report.pass).map((report) => report.database);
  log(failed.length === 0 ? 'All targets PASS.' : `Targets FAIL on: ${failed.join(', ')}.`);
  if (failed.length > 0 && settings.strict) process.exitCode = 1;
}

try {
  await main();
} catch (error) {
  process.stderr.write(
    `\nbench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
  await stopAll();
} finally {
  await runCleanups();
}
