/**
 * Dispatch benchmark: how fast and how lean Bellhop gets notifications to APNs, against a plain
 * HTTP/2 sender, with a fake APNs in this process.
 *
 *   npm run bench:dispatch                       # SQLite
 *   npm run bench:dispatch -- --db postgres      # or both
 *   npm run bench:dispatch -- --db both --strict --wait-quiet
 *
 * In one run, per database:
 *  (a) throughput — baseline: a plain node:http2 client (bench/lib/apns-client.ts, in a child
 *      process of its own as Bellhop is; token auth with one reused ES256 JWT, BENCH_CONNECTIONS
 *      connections, streams pipelined up to SETTINGS_MAX_CONCURRENT_STREAMS within the send
 *      window) sends N alert pushes straight to the fake. Bellhop: ONE `POST /v1/push` message
 *      to N users with one iPhone registration each; measured from its 202 to the moment the
 *      fake APNs has received all N requests. Deliveries/s of both and the ratio.
 *  (b) ring latency — rings, one per `POST /v1/push`, at BENCH_RING_RATE/s for BENCH_RING_SECONDS
 *      to one user with one iPhone ring registration; latency = from just before the request is
 *      issued to the fake receiving that ring (matched by `ring_id`), both on this process's
 *      performance.now() clock. p50, p99, max.
 *  (c) memory — a fresh Bellhop process fans one message out to BENCH_MEMORY_USERS (100,000)
 *      users (one request, the whole users list); its peak RSS (VmHWM, and VmRSS sampled every
 *      50 ms from /proc/<pid>/status) until every delivery is recorded.
 *  (d) maker phones — a fresh Bellhop process sends ONE `POST /v1/push` message to
 *      BENCH_MAKER_PHONES (10,000) Xiaomi + as many Huawei + as many OPPO phones (one app with
 *      all three makers' settings; fakes in this process); deliveries/s from the 202 to the last
 *      token received, and the HTTP requests each fake received against ceil(N / 1000)
 *      (bench/lib/maker-fanout.ts).
 *
 * The fake APNs (test/fakes/apns-server.ts, record: false, a 16 MiB connection window) runs in
 * this process; Bellhop runs as `npm start` runs it (bench/lib/children.ts), its
 * environment built from scratch: LOG_LEVEL=warn and the server's defaults otherwise
 * (WORKER_POLL_MS 1000, WORKER_BATCH_SIZE 500, …). Users and registrations are seeded straight
 * into the database before the server starts. Everything is on 127.0.0.1; children die with
 * the bench; temporary databases are removed.
 *
 * Environment: BENCH_N (20000), BENCH_MEMORY_USERS (100000; 0 skips (c)), BENCH_MAKER_PHONES
 * (10000 per maker; 0 skips (d)), BENCH_RING_RATE (100),
 * BENCH_RING_SECONDS (10), BENCH_CONNECTIONS (2), BENCH_WARMUP (1000), BENCH_DB, BENCH_STRICT=1,
 * BENCH_POSTGRES_URL (postgres://postgres@127.0.0.1:5432/test), BENCH_POSTGRES_OPTIONS (server
 * settings for Bellhop's connections, e.g. `-c auto_explain.log_min_duration=20`), BENCH_BELLHOP_ENTRY (default
 * Bellhop as `npm start` runs it; a .ts file runs through tsx: point it at a patched copy to measure a change), BENCH_SERVER_ENV (extra server
 * variables, `NAME=value,NAME=value`), BENCH_SERVER_NODE_FLAGS (extra node flags for the
 * server, e.g. `--max-old-space-size=160`), BENCH_BASELINE_NODE_FLAGS (the same for the
 * baseline client, e.g. `--cpu-prof`), BENCH_WAIT_QUIET=1 (same as --wait-quiet: first
 * wait until no other benchmark runs and the machine is idle). Results: printed, and
 * bench/results/dispatch-<db>.json.
 */
import { type ChildProcess, execFileSync, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import { loadConfig } from '../src/config.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { TEST_APNS_BUNDLE_ID, testApnsTokenCredentials } from '../test/fakes/apns-fixtures.js';
import { type FakeApns, type ReceivedApnsRequest, startFakeApns } from '../test/fakes/apns-server.js';
import { postgresProblem } from '../test/helpers/postgres.js';
import type { BaselineReply, BaselineStart } from './dispatch-baseline-client.js';
import type { PlainRunResult } from './lib/apns-client.js';
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
import {
  describeMakerFanOut,
  type MakerFanOutReport,
  type MakerPhones,
  makerChecks,
  measureMakerFanOut,
  seedMakerPhones,
} from './lib/maker-fanout.js';
import { realPasswordHash } from './lib/seed.js';
import { argument, integerSetting } from './lib/settings.js';
import { prepareStorage, type Storage } from './lib/storage.js';

type Dialect = 'sqlite' | 'postgres';

// ---------------------------------------------------------------------------------------------
// Settings

function serverEnvSetting(): Record<string, string> {
  const raw = process.env.BENCH_SERVER_ENV ?? '';
  const result: Record<string, string> = {};
  for (const pair of raw.split(',')) {
    if (pair.trim() === '') continue;
    const at = pair.indexOf('=');
    if (at <= 0) throw new Error(`BENCH_SERVER_ENV: expected NAME=value, got ${JSON.stringify(pair)}`);
    result[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
  }
  return result;
}

const settings = {
  n: integerSetting('BENCH_N', 20_000, 1),
  memoryUsers: integerSetting('BENCH_MEMORY_USERS', 100_000, 0),
  makerPhones: integerSetting('BENCH_MAKER_PHONES', 10_000, 0),
  ringRate: integerSetting('BENCH_RING_RATE', 100, 1),
  ringSeconds: integerSetting('BENCH_RING_SECONDS', 10, 1),
  connections: integerSetting('BENCH_CONNECTIONS', 2, 1),
  warmup: integerSetting('BENCH_WARMUP', 1_000, 1),
  postgresUrl: process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  postgresOptions: process.env.BENCH_POSTGRES_OPTIONS ?? '',
  strict: process.argv.includes('--strict') || process.env.BENCH_STRICT === '1',
  waitQuiet: process.argv.includes('--wait-quiet') || process.env.BENCH_WAIT_QUIET === '1',
  bellhopEntry: process.env.BENCH_BELLHOP_ENTRY ?? NPM_START,
  serverEnv: serverEnvSetting(),
  /** Extra node flags for the Bellhop server, e.g. `--max-old-space-size=160`. */
  serverNodeFlags: (process.env.BENCH_SERVER_NODE_FLAGS ?? '').split(/\s+/).filter((flag) => flag !== ''),
  /** Extra node flags for the baseline client, e.g. `--cpu-prof`. */
  baselineNodeFlags: (process.env.BENCH_BASELINE_NODE_FLAGS ?? '').split(/\s+/).filter((flag) => flag !== ''),
};

/** The issue's targets. */
const targets = { ratio: 0.6, ringP50Ms: 5, ringP99Ms: 25, peakRssMb: 300, minN: 20_000 };

/** Bellhop's cap on streams per APNs connection (apns.adapter.ts); the baseline gets the same. */
const MAX_STREAMS_PER_CONNECTION = 1000;
const bundle = TEST_APNS_BUNDLE_ID;
const message = { title: 'Battery low', body: 'The front door camera battery is at 10%' };
const adminKey = `bh_${randomBytes(30).toString('base64url')}`;
const masterKey = randomBytes(32).toString('base64');
const serverDefaults = loadConfig({});

// ---------------------------------------------------------------------------------------------
// Clean-up: servers are killed in children.ts; the baseline child, schemas, directories here.

const cleanups: Array<() => Promise<void>> = [];
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

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
    for (const child of children) child.kill('SIGKILL');
    stopAll()
      .then(runCleanups)
      .then(
        () => process.exit(130),
        () => process.exit(130),
      );
  });
}

// ---------------------------------------------------------------------------------------------
// Small helpers

const log = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;
const number = (value: number) => Math.round(value).toLocaleString('en-US');

/** Another benchmark's processes (their command lines), which would disturb the figures. */
function otherBenchmarks(): string[] {
  try {
    return execFileSync('pgrep', ['-af', 'bench/api.ts'], { encoding: 'utf8' })
      .split('\n')
      .filter((line) => line.trim() !== '');
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

/** Cores busy on the whole machine over `ms`, from /proc/stat. */
async function machineBusyCores(ms: number): Promise<number | undefined> {
  const before = machineCpuSeconds();
  await sleep(ms);
  const after = machineCpuSeconds();
  if (before === undefined || after === undefined || after.total === before.total) return undefined;
  return ((after.busy - before.busy) / (after.total - before.total)) * cpus().length;
}

/**
 * Waits (at most an hour) until no other benchmark runs and the machine is nearly idle
 * (under a quarter of a core busy over 3 s), so that the figures are not disturbed.
 */
async function waitUntilQuiet(): Promise<void> {
  const deadline = Date.now() + 3_600_000;
  let said = false;
  for (;;) {
    const others = otherBenchmarks();
    const busy = others.length > 0 ? undefined : await machineBusyCores(3_000);
    if (others.length === 0 && (busy === undefined || busy <= 0.25)) return;
    if (Date.now() > deadline) throw new Error('the machine did not become quiet within an hour');
    if (!said) {
      log(
        others.length > 0
          ? 'Waiting until no other benchmark (bench/api.ts) runs…'
          : `Waiting until the machine is quiet (${round(busy ?? 0)} cores busy)…`,
      );
      said = true;
    }
    await sleep(others.length > 0 ? 5_000 : 1_000);
  }
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

/** Lays a results file out as Biome would (bench/ is linted), when Biome is installed. */
function formatJson(file: string): void {
  try {
    execFileSync(join(repoRoot, 'node_modules/.bin/biome'), ['format', '--write', file], { stdio: 'ignore' });
  } catch {
    // Still valid JSON, only laid out differently.
  }
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

// ---------------------------------------------------------------------------------------------
// HTTP to Bellhop (keep-alive, so that ring latency does not include a TCP handshake)

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

interface ApiAnswer {
  status: number;
  body: Record<string, unknown>;
}

function api(base: string, method: string, path: string, body?: unknown): Promise<ApiAnswer> {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const url = new URL(path, base);
  return new Promise<ApiAnswer>((resolve, reject) => {
    const request = httpRequest(
      url,
      {
        method,
        agent,
        headers: {
          authorization: `Bearer ${adminKey}`,
          ...(payload === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': String(payload.length) }),
        },
        timeout: 120_000,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: Record<string, unknown> = {};
          try {
            parsed = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
          } catch {
            parsed = { raw: text };
          }
          resolve({ status: response.statusCode ?? 0, body: parsed });
        });
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error(`${method} ${path}: timed out`)));
    request.on('error', reject);
    request.end(payload);
  });
}

/** Polls GET /v1/push/<id> until every delivery has a final status; the counts by status. */
async function waitSettled(
  server: ServerProcess,
  id: string,
  timeoutMs: number,
): Promise<{ counts: Record<string, number>; settledAt: number }> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const view = await api(server.url, 'GET', `/v1/push/${id}?limit=1`);
    if (view.status !== 200)
      throw new Error(`GET /v1/push/${id}: ${view.status} ${JSON.stringify(view.body)}`);
    if (view.body.state !== 'pending') {
      return { counts: view.body.counts as Record<string, number>, settledAt: performance.now() };
    }
    if (performance.now() > deadline) {
      throw new Error(
        `notification ${id} still pending after ${timeoutMs} ms: ${JSON.stringify(view.body.counts)}`,
      );
    }
    await sleep(100);
  }
}

// ---------------------------------------------------------------------------------------------
// What the fake APNs receives

interface Arrival {
  count: number;
  firstAt: number;
  lastAt: number;
  /** Requests beyond the first for an apns-id (a delivery sent twice). */
  repeats: number;
}

/**
 * One listener on the fake: requests whose payload carries `bench: <marker>` are counted per
 * marker (distinct apns-id); rings are recorded by `ring_id` with the fake's arrival time
 * (`at` = performance.now() in this process).
 */
class Arrivals {
  private readonly runs = new Map<
    string,
    { ids: Set<string>; arrival: Arrival; expected: number; done: () => void }
  >();
  readonly rings = new Map<string, number>();
  /** Rings that arrived more than once. */
  ringRepeats = 0;

  constructor(fake: FakeApns) {
    fake.on('request', (request) => this.take(request));
  }

  private take(request: ReceivedApnsRequest): void {
    const payload = request.payload as Record<string, unknown> | undefined;
    if (payload === undefined || payload === null) return;
    const marker = payload.bench;
    if (typeof marker === 'string') {
      const run = this.runs.get(marker);
      if (run === undefined) return;
      const id = String(request.headers['apns-id'] ?? request.seq);
      if (run.ids.has(id)) {
        run.arrival.repeats += 1;
        return;
      }
      run.ids.add(id);
      const arrival = run.arrival;
      if (arrival.count === 0) arrival.firstAt = request.at;
      arrival.count += 1;
      arrival.lastAt = request.at;
      if (arrival.count === run.expected) run.done();
      return;
    }
    const ringId = payload.ring_id;
    if (typeof ringId === 'string') {
      if (this.rings.has(ringId)) this.ringRepeats += 1;
      else this.rings.set(ringId, request.at);
    }
  }

  /** Starts counting `marker`; `done` resolves once `expected` distinct requests arrived. */
  expect(
    marker: string,
    expected: number,
    timeoutMs: number,
  ): { done: Promise<Arrival>; now: () => Arrival } {
    const arrival: Arrival = { count: 0, firstAt: Number.NaN, lastAt: Number.NaN, repeats: 0 };
    let resolveDone: () => void = () => {};
    const done = new Promise<Arrival>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new Error(`the fake APNs received ${arrival.count} of ${expected} requests within ${timeoutMs} ms`),
        );
      }, timeoutMs);
      resolveDone = () => {
        clearTimeout(timer);
        this.runs.delete(marker);
        resolve({ ...arrival });
      };
    });
    this.runs.set(marker, { ids: new Set(), arrival, expected, done: resolveDone });
    return { done, now: () => ({ ...arrival }) };
  }
}

// ---------------------------------------------------------------------------------------------
// CPU and memory of the processes involved

interface CpuUse {
  /** Cores the Bellhop server kept busy on average (a Node process ≈ one core at most, plus GC). */
  serverCores: number | null;
  /** Cores the baseline client process kept busy. */
  baselineClientCores: number | null;
  /** Cores this process kept busy: the fake APNs (TLS, HTTP/2, JSON) and the API calls. */
  benchCores: number;
  /** Cores the machine's `postgres` processes kept busy. */
  postgresCores: number | null;
  machineBusyCores: number | null;
  /** Whatever else ran. */
  otherCores: number | null;
  machineCores: number;
}

function cpuMeter(pids: { server?: number; baseline?: number }): () => CpuUse {
  const start = performance.now();
  const server = pids.server === undefined ? undefined : processCpuSeconds(pids.server);
  const baseline = pids.baseline === undefined ? undefined : processCpuSeconds(pids.baseline);
  const postgres = postgresCpuSeconds();
  const machine = machineCpuSeconds();
  const own = process.cpuUsage();
  const machineCores = cpus().length;
  return () => {
    const seconds = Math.max(1e-6, (performance.now() - start) / 1000);
    const delta = (pid: number | undefined, before: number | undefined) => {
      if (pid === undefined || before === undefined) return null;
      const after = processCpuSeconds(pid);
      return after === undefined ? null : (after - before) / seconds;
    };
    const serverCores = delta(pids.server, server);
    const baselineClientCores = delta(pids.baseline, baseline);
    const ownUsed = process.cpuUsage(own);
    const benchCores = (ownUsed.user + ownUsed.system) / 1e6 / seconds;
    let postgresUsed = 0;
    for (const [pid, used] of postgresCpuSeconds()) postgresUsed += used - (postgres.get(pid) ?? 0);
    const postgresCores = machine === undefined ? null : postgresUsed / seconds;
    const machineEnd = machineCpuSeconds();
    const machineBusyCores =
      machine === undefined || machineEnd === undefined || machineEnd.total === machine.total
        ? null
        : ((machineEnd.busy - machine.busy) / (machineEnd.total - machine.total)) * machineCores;
    const known = (serverCores ?? 0) + (baselineClientCores ?? 0) + benchCores + (postgresCores ?? 0);
    const r = (value: number | null) => (value === null ? null : round(value));
    return {
      serverCores: r(serverCores),
      baselineClientCores: r(baselineClientCores),
      benchCores: round(benchCores),
      postgresCores: r(postgresCores),
      machineBusyCores: r(machineBusyCores),
      otherCores: machineBusyCores === null ? null : round(Math.max(0, machineBusyCores - known)),
      machineCores,
    };
  };
}

/** VmRSS and VmHWM of a process in MiB, from /proc/<pid>/status. */
function memoryOf(pid: number): { rssMb: number; hwmMb: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
    const rss = kib('VmRSS');
    const hwm = kib('VmHWM');
    if (!Number.isFinite(rss) || !Number.isFinite(hwm)) return undefined;
    return { rssMb: round(rss / 1024, 1), hwmMb: round(hwm / 1024, 1) };
  } catch {
    return undefined;
  }
}

/** Samples a process's RSS every 50 ms until stopped. */
function rssSampler(pid: number) {
  const start = performance.now();
  const samples: Array<[number, number]> = [];
  let maxRssMb = 0;
  let hwmMb = 0;
  const sample = () => {
    const memory = memoryOf(pid);
    if (memory === undefined) return;
    samples.push([Math.round(performance.now() - start), memory.rssMb]);
    maxRssMb = Math.max(maxRssMb, memory.rssMb);
    hwmMb = Math.max(hwmMb, memory.hwmMb);
  };
  sample();
  const timer = setInterval(sample, 50);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return { maxSampledRssMb: maxRssMb, vmHwmMb: hwmMb, samples: samples.length, series: samples };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Storage per database

async function chooseDialects(): Promise<Dialect[]> {
  const wanted = argument('db') ?? process.env.BENCH_DB ?? 'sqlite';
  if (!['sqlite', 'postgres', 'both'].includes(wanted)) {
    throw new Error(`--db must be sqlite, postgres or both (got ${JSON.stringify(wanted)})`);
  }
  if (wanted === 'sqlite') return ['sqlite'];
  const problem = await postgresProblem(settings.postgresUrl);
  if (problem !== undefined)
    throw new Error(`PostgreSQL at ${settings.postgresUrl} does not answer: ${problem}`);
  return wanted === 'both' ? ['sqlite', 'postgres'] : ['postgres'];
}

// ---------------------------------------------------------------------------------------------
// The runs

/** The device token of seeded user `index` of a group: 64 hex digits, distinct per group. */
const seededToken = (group: number) => (index: number) =>
  `${group.toString(16).padStart(2, '0')}${index.toString(16).padStart(10, '0')}`.padEnd(64, 'e');

function serverEnvironment(storage: Storage): Record<string, string | undefined> {
  const { PATH, HOME, TMPDIR, LANG } = process.env;
  return {
    PATH,
    HOME,
    TMPDIR,
    LANG,
    NODE_ENV: 'production',
    ...storage.env,
    LOG_LEVEL: 'warn',
    BELLHOP_ADMIN_KEY: adminKey,
    BELLHOP_MASTER_KEY: masterKey,
    SHUTDOWN_GRACE_MS: '3000',
    ...settings.serverEnv,
  };
}

interface BaselineReport {
  deliveries: number;
  /** From "go" to the fake receiving the last request. */
  seconds: number;
  perSecond: number;
  client: PlainRunResult;
  warmup: PlainRunResult;
  repeats: number;
  cpu: CpuUse;
}

async function runBaseline(fake: FakeApns, arrivals: Arrivals): Promise<BaselineReport> {
  const child = fork(join(repoRoot, 'bench/dispatch-baseline-client.ts'), [], {
    cwd: repoRoot,
    execArgv: [...settings.baselineNodeFlags, '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const replies: BaselineReply[] = [];
  let wakeReply: (() => void) | undefined;
  child.on('message', (reply: BaselineReply) => {
    replies.push(reply);
    wakeReply?.();
  });
  const nextReply = async (timeoutMs: number): Promise<BaselineReply> => {
    const deadline = performance.now() + timeoutMs;
    while (replies.length === 0) {
      if (child.exitCode !== null) throw new Error(`baseline client exited (${child.exitCode})`);
      if (performance.now() > deadline) throw new Error('baseline client did not answer in time');
      await new Promise<void>((resolve) => {
        wakeReply = resolve;
        setTimeout(resolve, 200);
      });
    }
    const reply = replies.shift() as BaselineReply;
    if (reply.type === 'error') throw new Error(`baseline client: ${reply.message}`);
    return reply;
  };
  try {
    const marker = `baseline-${randomBytes(4).toString('hex')}`;
    const warmupMarker = `${marker}-warmup`;
    const warm = arrivals.expect(warmupMarker, settings.warmup, 120_000);
    const start: BaselineStart = {
      type: 'start',
      url: fake.url,
      ca: fake.ca,
      connections: settings.connections,
      maxStreamsPerConnection: MAX_STREAMS_PER_CONNECTION,
      count: settings.n,
      warmup: settings.warmup,
      marker,
      warmupMarker,
      title: message.title,
      body: message.body,
    };
    child.send(start);
    const ready = await nextReply(120_000);
    if (ready.type !== 'ready') throw new Error(`baseline client: unexpected ${ready.type}`);
    await warm.done;
    const expectation = arrivals.expect(marker, settings.n, 60_000 + settings.n * 2);
    await sleep(500); // the warm-up's answers and GC settle
    const meter = cpuMeter({ baseline: child.pid ?? -1 });
    const go = performance.now();
    child.send({ type: 'go' });
    const arrival = await expectation.done;
    const cpu = meter();
    const done = await nextReply(60_000);
    if (done.type !== 'done') throw new Error(`baseline client: unexpected ${done.type}`);
    const seconds = (arrival.lastAt - go) / 1000;
    return {
      deliveries: arrival.count,
      seconds: round(seconds, 3),
      perSecond: Math.round(arrival.count / seconds),
      client: { ...done.result, ms: round(done.result.ms) },
      warmup: { ...ready.warmup, ms: round(ready.warmup.ms) },
      repeats: arrival.repeats,
      cpu,
    };
  } finally {
    child.disconnect();
    const exited = new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 3_000);
    await exited;
    clearTimeout(killer);
  }
}

interface FanOutReport {
  users: number;
  targets: number;
  /** From issuing POST /v1/push to its 202 (the notification and every delivery stored). */
  acceptMs: number;
  /** Requests the fake had already received when the 202 arrived. */
  receivedAtAccept: number;
  /** From the 202 to the fake receiving the last request. */
  seconds: number;
  perSecond: number;
  /** From issuing the request to the last arrival (includes storing the deliveries). */
  endToEndSeconds: number;
  endToEndPerSecond: number;
  /** From the 202 until GET /v1/push/<id> showed every delivery with a final status. */
  settledSeconds: number;
  counts: Record<string, number>;
  repeats: number;
  cpu: CpuUse;
}

async function fanOut(
  server: ServerProcess,
  arrivals: Arrivals,
  users: readonly number[],
  label: string,
): Promise<FanOutReport> {
  const marker = `${label}-${randomBytes(4).toString('hex')}`;
  const expectation = arrivals.expect(marker, users.length, 60_000 + users.length * 2);
  const issued = performance.now();
  const sent = await api(server.url, 'POST', '/v1/push', {
    channel: 'message',
    users,
    title: message.title,
    body: message.body,
    data: { bench: marker },
  });
  const accepted = performance.now();
  const meter = cpuMeter({ server: server.pid });
  const receivedAtAccept = expectation.now().count;
  if (sent.status !== 202)
    throw new Error(`POST /v1/push answered ${sent.status} ${JSON.stringify(sent.body)}`);
  const targetCount = Number(sent.body.targets);
  if (targetCount !== users.length)
    throw new Error(`expected ${users.length} targets, Bellhop made ${targetCount}`);
  const arrival = await expectation.done;
  const cpu = meter();
  const settled = await waitSettled(server, String(sent.body.id), 120_000);
  const seconds = Math.max(1e-3, (arrival.lastAt - accepted) / 1000);
  const endToEnd = (arrival.lastAt - issued) / 1000;
  return {
    users: users.length,
    targets: targetCount,
    acceptMs: round(accepted - issued, 1),
    receivedAtAccept,
    seconds: round(seconds, 3),
    perSecond: Math.round(arrival.count / seconds),
    endToEndSeconds: round(endToEnd, 3),
    endToEndPerSecond: Math.round(arrival.count / endToEnd),
    settledSeconds: round((settled.settledAt - accepted) / 1000, 2),
    counts: settled.counts,
    repeats: arrival.repeats,
    cpu,
  };
}

interface RingReport {
  rings: number;
  ratePerSecond: number;
  received: number;
  lost: number;
  repeats: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  /** Of the same rings: from issuing the request to its 202. */
  acceptMs: { p50: number; p99: number; max: number };
  /** Latencies over 25 ms, with their send times (ms from the first ring). */
  slowest: Array<{ atMs: number; latencyMs: number }>;
  cpu: CpuUse;
}

async function measureRings(
  server: ServerProcess,
  arrivals: Arrivals,
  ringUser: number,
): Promise<RingReport> {
  const sendRing = async (index: number) => {
    const issued = performance.now();
    const answer = await api(server.url, 'POST', '/v1/push', {
      channel: 'ring',
      users: [ringUser],
      title: 'Doorbell',
      body: 'Someone is at the door',
      data: { uid: 'ABCDEFGHIJKLMNOPQRST', type: '1', seq: String(index) },
    });
    const accepted = performance.now();
    if (answer.status !== 202) throw new Error(`ring: POST /v1/push answered ${answer.status}`);
    return { id: String(answer.body.id), issued, accepted };
  };
  const waitArrived = async (ids: readonly string[], timeoutMs: number) => {
    const deadline = performance.now() + timeoutMs;
    while (ids.some((id) => !arrivals.rings.has(id)) && performance.now() < deadline) await sleep(20);
  };

  // Warm-up: a few rings one after the other (JIT, connections, statement caches).
  for (let index = 0; index < 50; index += 1) {
    const ring = await sendRing(-1 - index);
    await waitArrived([ring.id], 5_000);
  }
  await sleep(500);

  const count = settings.ringRate * settings.ringSeconds;
  const interval = 1000 / settings.ringRate;
  const meter = cpuMeter({ server: server.pid });
  const start = performance.now();
  const pending: Array<Promise<{ id: string; issued: number; accepted: number }>> = [];
  for (let index = 0; index < count; index += 1) {
    const due = start + index * interval;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait - 0.5);
    while (performance.now() < due) {
      // the last half millisecond: spin, so that rings leave on schedule
    }
    pending.push(sendRing(index));
  }
  const rings = await Promise.all(pending);
  await waitArrived(
    rings.map((ring) => ring.id),
    5_000,
  );
  const cpu = meter();
  const latencies: number[] = [];
  const slowest: Array<{ atMs: number; latencyMs: number }> = [];
  for (const ring of rings) {
    const at = arrivals.rings.get(ring.id);
    if (at === undefined) continue;
    const latency = at - ring.issued;
    latencies.push(latency);
    if (latency > targets.ringP99Ms)
      slowest.push({ atMs: round(ring.issued - start, 1), latencyMs: round(latency) });
  }
  latencies.sort((a, b) => a - b);
  const accepts = rings.map((ring) => ring.accepted - ring.issued).sort((a, b) => a - b);
  return {
    rings: count,
    ratePerSecond: settings.ringRate,
    received: latencies.length,
    lost: count - latencies.length,
    repeats: arrivals.ringRepeats,
    latencyMs: {
      p50: round(percentile(latencies, 50)),
      p90: round(percentile(latencies, 90)),
      p99: round(percentile(latencies, 99)),
      max: round(latencies.at(-1) ?? Number.NaN),
      mean: round(latencies.reduce((sum, value) => sum + value, 0) / Math.max(1, latencies.length)),
    },
    acceptMs: {
      p50: round(percentile(accepts, 50)),
      p99: round(percentile(accepts, 99)),
      max: round(accepts.at(-1) ?? Number.NaN),
    },
    slowest: slowest.sort((a, b) => b.latencyMs - a.latencyMs).slice(0, 20),
    cpu,
  };
}

interface MemoryReport extends FanOutReport {
  /** RSS of the fresh server, ready and idle, before the request. */
  idleRssMb: number;
  /** VmHWM at the end: the peak resident set of the process's whole life. */
  vmHwmMb: number;
  maxSampledRssMb: number;
  samples: number;
  /** RSS every 250 ms (ms since the request, MiB), for a plot. */
  series: Array<[number, number]>;
}

async function measureMemory(
  storage: Storage,
  arrivals: Arrivals,
  users: readonly number[],
): Promise<MemoryReport> {
  const server = await startServer({
    name: 'Bellhop (memory run)',
    entry: settings.bellhopEntry,
    nodeFlags: settings.serverNodeFlags,
    env: serverEnvironment(storage),
  });
  try {
    await sleep(1_000);
    const idle = memoryOf(server.pid);
    const sampler = rssSampler(server.pid);
    const run = await fanOut(server, arrivals, users, 'memory');
    const memory = sampler.stop();
    return {
      ...run,
      idleRssMb: idle?.rssMb ?? Number.NaN,
      vmHwmMb: memory.vmHwmMb,
      maxSampledRssMb: memory.maxSampledRssMb,
      samples: memory.samples,
      series: memory.series.filter((_, index) => index % 5 === 0),
    };
  } finally {
    const warnings = server.takeWarnings();
    if (warnings.length > 0) log(`  server warnings: ${warnings.slice(0, 3).join('\n  ')}`);
    await server.stop();
  }
}

interface Check {
  name: string;
  target: string;
  value: string;
  pass: boolean;
}

interface DatabaseReport {
  database: Dialect;
  date: string;
  commit: string | undefined;
  machine: { cpus: number; cpuModel: string; node: string; platform: string };
  settings: {
    n: number;
    memoryUsers: number;
    makerPhones: number;
    ringRate: number;
    ringSeconds: number;
    connections: number;
    maxStreamsPerConnection: number;
    warmup: number;
    bellhopEntry: string;
    serverEnv: Record<string, string>;
    serverNodeFlags: string[];
    worker: { batchSize: number; pollMs: number };
  };
  otherBenchmarksRunning: string[];
  seed: { users: number; registrations: number; seconds: number };
  baseline: BaselineReport;
  bellhop: FanOutReport;
  ratio: number;
  rings: RingReport;
  memory: MemoryReport | null;
  makers: MakerFanOutReport<CpuUse> | null;
  limits: string[];
  serverWarnings: string[];
  targets: Check[];
  pass: boolean;
}

const coreShare = (value: number | null) => (value === null ? 'n/a' : `${Math.round(value * 100)}%`);

/** What bounded a run, from where the CPU went (100% = one core; Node runs JS on one thread). */
function limitOf(name: string, cpu: CpuUse, sender: 'server' | 'baseline'): string {
  const senderCores = sender === 'server' ? cpu.serverCores : cpu.baselineClientCores;
  const senderName = sender === 'server' ? 'the Bellhop server' : 'the baseline client';
  const parts = [
    `${senderName} ${coreShare(senderCores)}`,
    `bench process (fakes) ${coreShare(cpu.benchCores)}`,
    ...(cpu.postgresCores !== null && cpu.postgresCores >= 0.05
      ? [`postgres ${coreShare(cpu.postgresCores)}`]
      : []),
    ...(cpu.otherCores !== null && cpu.otherCores >= 0.05
      ? [`other processes ${coreShare(cpu.otherCores)}`]
      : []),
    `machine ${coreShare(cpu.machineBusyCores)} of ${cpu.machineCores * 100}%`,
  ];
  let verdict: string;
  const saturated = cpu.machineBusyCores !== null && cpu.machineBusyCores >= cpu.machineCores * 0.9;
  if ((senderCores ?? 0) >= 0.9 && (senderCores ?? 0) >= cpu.benchCores)
    verdict = `${senderName}'s CPU (its one JavaScript thread is busy all the time)`;
  else if (cpu.benchCores >= 0.9) verdict = 'the fakes in the bench process (its one thread is saturated)';
  else if ((cpu.postgresCores ?? 0) >= 0.9) verdict = 'PostgreSQL CPU';
  else if (saturated) verdict = `the machine's ${cpu.machineCores} cores, shared by everything`;
  else verdict = `neither CPU: ${senderName} waits (I/O, database, scheduling)`;
  return `${name}: ${parts.join(', ')} → limited by ${verdict}`;
}

async function benchDatabase(dialect: Dialect, passwordHash: string): Promise<DatabaseReport> {
  const label = dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL';
  log(`\n=== ${label} ===`);
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

  // Seed: the fan-out users (the first N also make the throughput run), warm-up users, the ring user.
  const fanOutUsers = Math.max(settings.n, settings.memoryUsers);
  const seedStart = performance.now();
  let groups: number[][];
  let makerPhones: MakerPhones | null = null;
  {
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
  }
  const [fanIds = [], warmIds = [], ringIds = []] = groups;
  const ringUser = ringIds[0];
  if (ringUser === undefined) throw new Error('seeding made no ring user');
  const seedSeconds = round((performance.now() - seedStart) / 1000, 1);
  const seededUsers = fanIds.length + warmIds.length + ringIds.length + (makerPhones?.users.length ?? 0);
  log(`seeded ${number(seededUsers)} users with one phone registration each in ${seedSeconds} s`);

  const fake = await startFakeApns({ record: false, connectionWindowSize: 16 << 20 });
  cleanups.push(() => fake.close());
  const arrivals = new Arrivals(fake);

  // (a) baseline
  log(
    `(a) baseline: plain node:http2 client, ${settings.connections} connections, ${number(settings.n)} pushes…`,
  );
  const baseline = await runBaseline(fake, arrivals);
  log(
    `    ${number(baseline.perSecond)} deliveries/s (${baseline.seconds} s; ${baseline.client.ok} answered 200, ` +
      `up to ${baseline.client.maxInFlight} streams in flight per connection)`,
  );

  const server = await startServer({
    name: 'Bellhop',
    entry: settings.bellhopEntry,
    nodeFlags: settings.serverNodeFlags,
    env: serverEnvironment(storage),
  });
  let bellhop: FanOutReport;
  let rings: RingReport;
  let serverWarnings: string[];
  try {
    const put = await api(server.url, 'PUT', `/v1/admin/apps/${bundle}`, {
      name: 'Doorbell',
      mode: 'live',
      apns: testApnsTokenCredentials(fake),
    });
    if (put.status !== 201 && put.status !== 200) {
      throw new Error(`PUT /v1/admin/apps answered ${put.status} ${JSON.stringify(put.body)}`);
    }
    log(`    Bellhop ready; warming up with a message to ${number(warmIds.length)} users…`);
    await fanOut(server, arrivals, warmIds, 'warmup');
    await sleep(500);

    log(`(a) Bellhop: one message to ${number(settings.n)} users…`);
    bellhop = await fanOut(server, arrivals, fanIds.slice(0, settings.n), 'throughput');
    log(
      `    ${number(bellhop.perSecond)} deliveries/s from the 202 (${bellhop.seconds} s; the 202 took ` +
        `${bellhop.acceptMs} ms; all recorded after ${bellhop.settledSeconds} s: ${JSON.stringify(bellhop.counts)})`,
    );

    log(`(b) rings: ${settings.ringRate}/s for ${settings.ringSeconds} s to one iPhone…`);
    await sleep(1_000);
    rings = await measureRings(server, arrivals, ringUser);
    log(
      `    p50 ${rings.latencyMs.p50} ms, p99 ${rings.latencyMs.p99} ms, max ${rings.latencyMs.max} ms ` +
        `(${rings.received} of ${rings.rings} received)`,
    );
    serverWarnings = server.takeWarnings();
  } finally {
    await server.stop();
  }

  let memory: MemoryReport | null = null;
  if (settings.memoryUsers > 0) {
    log(`(c) memory: a fresh Bellhop process fans one message out to ${number(settings.memoryUsers)} users…`);
    memory = await measureMemory(storage, arrivals, fanIds.slice(0, settings.memoryUsers));
    log(
      `    peak RSS ${memory.vmHwmMb} MiB (VmHWM; idle ${memory.idleRssMb} MiB), ${number(memory.perSecond)} deliveries/s, ` +
        `the 202 took ${memory.acceptMs} ms`,
    );
  }
  await fake.close();

  let makers: MakerFanOutReport<CpuUse> | null = null;
  if (makerPhones !== null) {
    log(
      `(d) maker phones: a fresh Bellhop process sends one message to ${number(makerPhones.perMaker)} ` +
        'phones each of Xiaomi, Huawei and OPPO…',
    );
    makers = await measureMakerFanOut(
      {
        startServer: () =>
          startServer({
            name: 'Bellhop (maker run)',
            entry: settings.bellhopEntry,
            nodeFlags: settings.serverNodeFlags,
            env: serverEnvironment(storage),
          }),
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
  }
  await storage.drop();

  const ratio = round(bellhop.perSecond / baseline.perSecond, 3);
  const checks: Check[] = [
    {
      name: `Bellhop / baseline deliveries per second (N = ${number(settings.n)})`,
      target: `>= ${targets.ratio}`,
      value: `${ratio} (${number(bellhop.perSecond)} / ${number(baseline.perSecond)})`,
      pass: ratio >= targets.ratio && settings.n >= targets.minN,
    },
    {
      name: 'ring latency p50',
      target: `<= ${targets.ringP50Ms} ms`,
      value: `${rings.latencyMs.p50} ms`,
      pass: rings.latencyMs.p50 <= targets.ringP50Ms && rings.lost === 0,
    },
    {
      name: 'ring latency p99',
      target: `<= ${targets.ringP99Ms} ms`,
      value: `${rings.latencyMs.p99} ms (max ${rings.latencyMs.max} ms)`,
      pass: rings.latencyMs.p99 <= targets.ringP99Ms && rings.lost === 0,
    },
    ...(memory === null
      ? []
      : [
          {
            name: `peak RSS, fan-out to ${number(memory.users)} phones`,
            target: `<= ${targets.peakRssMb} MB`,
            value: `${memory.vmHwmMb} MiB (${round((memory.vmHwmMb * 1024 * 1024) / 1e6, 1)} MB)`,
            pass: memory.vmHwmMb * 1.048576 <= targets.peakRssMb && memory.users >= 100_000,
          },
        ]),
    ...(makers === null ? [] : makerChecks(makers)),
    {
      name: 'every delivery sent, once',
      target: 'all sent, no repeats, no lost ring',
      value:
        `throughput ${JSON.stringify(bellhop.counts)}, repeats ${bellhop.repeats}; rings lost ${rings.lost}, repeats ${rings.repeats}` +
        (memory === null ? '' : `; memory run ${JSON.stringify(memory.counts)}, repeats ${memory.repeats}`),
      pass:
        bellhop.counts.sent === settings.n &&
        bellhop.repeats === 0 &&
        rings.lost === 0 &&
        (memory === null || (memory.counts.sent === memory.users && memory.repeats === 0)),
    },
  ];
  const limits = [
    limitOf('baseline', baseline.cpu, 'baseline'),
    limitOf('Bellhop fan-out', bellhop.cpu, 'server'),
    limitOf('rings', rings.cpu, 'server'),
    ...(memory === null ? [] : [limitOf('100k fan-out', memory.cpu, 'server')]),
    ...(makers === null ? [] : [limitOf('maker fan-out', makers.cpu, 'server')]),
  ];
  return {
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
    otherBenchmarksRunning: [...new Set([...others, ...otherBenchmarks()])],
    seed: { users: seededUsers, registrations: seededUsers, seconds: seedSeconds },
    baseline,
    bellhop,
    ratio,
    rings,
    memory,
    makers,
    limits,
    serverWarnings: [...serverWarnings, ...(makers?.serverWarnings ?? [])],
    targets: checks,
    pass: checks.every((check) => check.pass),
  };
}

// ---------------------------------------------------------------------------------------------
// Output

function summary(report: DatabaseReport): string {
  const label = report.database === 'sqlite' ? 'SQLite' : 'PostgreSQL';
  const s = report.settings;
  const cpu = (use: CpuUse, sender: 'server' | 'baseline') =>
    `${coreShare(sender === 'server' ? use.serverCores : use.baselineClientCores)} | ${coreShare(use.benchCores)} | ` +
    `${coreShare(use.postgresCores)} | ${coreShare(use.otherCores)}`;
  const m = report.memory;
  const k = report.makers;
  const noisiest = Math.max(
    ...[
      report.baseline.cpu,
      report.bellhop.cpu,
      report.rings.cpu,
      ...(m === null ? [] : [m.cpu]),
      ...(k === null ? [] : [k.cpu]),
    ].map((use) => use.otherCores ?? 0),
  );
  const lines = [
    `#### Dispatch, ${label} — ${report.date.slice(0, 10)}, ${report.machine.cpus} × ${report.machine.cpuModel}, Node ${report.machine.node}${report.commit === undefined ? '' : `, ${report.commit}`}`,
    '',
    `Fake APNs (HTTP/2 + TLS, JWT checked) in the bench process; Bellhop \`${s.bellhopEntry}\` ` +
      `(worker batch ${s.worker.batchSize}, poll ${s.worker.pollMs} ms${Object.keys(s.serverEnv).length === 0 ? '' : `, env ${JSON.stringify(s.serverEnv)}`}` +
      `${s.serverNodeFlags.length === 0 ? '' : `, node flags ${s.serverNodeFlags.join(' ')}`}) ` +
      `and the baseline client in processes of their own; ${s.connections} connections, ≤ ${s.maxStreamsPerConnection} streams each. ` +
      `CPU: 100% = one core of ${report.machine.cpus}.`,
    '',
    '| run | deliveries | seconds | deliveries/s | sender CPU | bench (fake) CPU | postgres CPU | other CPU |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    `| baseline: plain node:http2 client → fake APNs | ${number(report.baseline.deliveries)} | ${report.baseline.seconds} | ${number(report.baseline.perSecond)} | ${cpu(report.baseline.cpu, 'baseline')} |`,
    `| Bellhop: one \`POST /v1/push\` message → ${number(report.bellhop.users)} users (from the 202) | ${number(report.bellhop.targets)} | ${report.bellhop.seconds} | ${number(report.bellhop.perSecond)} | ${cpu(report.bellhop.cpu, 'server')} |`,
    ...(m === null
      ? []
      : [
          `| Bellhop: fresh process, one message → ${number(m.users)} users (from the 202) | ${number(m.targets)} | ${m.seconds} | ${number(m.perSecond)} | ${cpu(m.cpu, 'server')} |`,
        ]),
    ...(k === null
      ? []
      : [
          `| Bellhop: fresh process, one message → ${number(k.users)} Xiaomi/Huawei/OPPO phones (from the 202) | ${number(k.targets)} | ${k.seconds} | ${number(k.perSecond)} | ${cpu(k.cpu, 'server')} |`,
        ]),
    '',
    `Bellhop's 202 for ${number(report.bellhop.users)} users took ${report.bellhop.acceptMs} ms ` +
      `(${report.bellhop.receivedAtAccept} already at the fake); request → last arrival ${report.bellhop.endToEndSeconds} s ` +
      `(${number(report.bellhop.endToEndPerSecond)}/s); every delivery recorded ${report.bellhop.settledSeconds} s after the 202.` +
      (m === null
        ? ''
        : ` For ${number(m.users)} users: 202 after ${m.acceptMs} ms, last arrival ${m.endToEndSeconds} s after the request, ` +
          `recorded after ${m.settledSeconds} s.`),
    '',
    `Rings: ${report.rings.rings} at ${report.rings.ratePerSecond}/s, request issued → fake APNs received: ` +
      `p50 ${report.rings.latencyMs.p50} ms, p90 ${report.rings.latencyMs.p90} ms, p99 ${report.rings.latencyMs.p99} ms, ` +
      `max ${report.rings.latencyMs.max} ms (202 itself: p50 ${report.rings.acceptMs.p50} ms, p99 ${report.rings.acceptMs.p99} ms); ` +
      `${report.rings.received} received, ${report.rings.lost} lost.` +
      (report.rings.slowest.length === 0
        ? ''
        : ` ${report.rings.slowest.length >= 20 ? '≥ 20' : report.rings.slowest.length} over ${targets.ringP99Ms} ms, slowest ${report.rings.slowest
            .slice(0, 5)
            .map((ring) => `${ring.latencyMs} ms`)
            .join(', ')}.`),
    ...(m === null
      ? []
      : [
          '',
          `Memory (${number(m.users)}-phone fan-out, fresh server): idle ${m.idleRssMb} MiB → peak ${m.vmHwmMb} MiB (VmHWM), ` +
            `max sampled VmRSS ${m.maxSampledRssMb} MiB over ${m.samples} samples at 50 ms.`,
        ]),
    ...(k === null ? [] : ['', describeMakerFanOut(k)]),
    '',
    '| target | wanted | measured | |',
    '|---|---|---|---|',
    ...report.targets.map(
      (check) => `| ${check.name} | ${check.target} | ${check.value} | ${check.pass ? 'PASS' : 'FAIL'} |`,
    ),
    '',
    'What limited the figures:',
    ...report.limits.map((line) => `- ${line}`),
    ...(s.bellhopEntry !== NPM_START || s.serverNodeFlags.length > 0
      ? [
          '',
          `Note: these figures are NOT of Bellhop as \`npm start\` runs it: entry ${s.bellhopEntry}` +
            (s.serverNodeFlags.length === 0 ? '' : `, node flags ${s.serverNodeFlags.join(' ')}`) +
            '.',
        ]
      : []),
    ...(report.settings.n < targets.minN
      ? ['', `Note: N = ${report.settings.n} is below the ${number(targets.minN)} the target is defined for.`]
      : []),
    ...(report.otherBenchmarksRunning.length > 0
      ? ['', 'Warning: another benchmark ran at the same time; these figures are disturbed.']
      : []),
    ...(noisiest > 0.25
      ? [
          '',
          `Warning: other processes kept up to ${coreShare(noisiest)} of a core busy during these runs; ` +
            'the machine was not quiet and the figures are disturbed (run with --wait-quiet).',
        ]
      : []),
  ];
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const dialects = await chooseDialects();
  if (settings.waitQuiet) await waitUntilQuiet();
  log(
    `Bellhop dispatch bench: ${dialects.join(' + ')}; N = ${number(settings.n)}, rings ${settings.ringRate}/s × ${settings.ringSeconds} s, ` +
      `memory fan-out ${number(settings.memoryUsers)} users, maker phones ${number(settings.makerPhones)} per maker`,
  );
  const passwordHash = await realPasswordHash(serverDefaults.passwords, 'correct horse battery staple');
  const reports: DatabaseReport[] = [];
  for (const dialect of dialects) reports.push(await benchDatabase(dialect, passwordHash));

  const resultsDir = join(repoRoot, 'bench/results');
  mkdirSync(resultsDir, { recursive: true });
  log('\n==================== summary ====================\n');
  for (const report of reports) {
    const file = join(resultsDir, `dispatch-${report.database}.json`);
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    formatJson(file);
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
  for (const child of children) child.kill('SIGKILL');
  await stopAll();
} finally {
  await runCleanups();
  agent.destroy();
}
