/** The API benchmark's runs: a measured registration load, warm-up, the bare baseline, row counts. */
import { performance } from 'node:perf_hooks';
import { type ServerProcess, startServer } from '../lib/children.js';
import { cpuMeter as processesCpuMeter } from '../lib/cpu.js';
import { round } from '../lib/harness.js';
import {
  type LoadResult,
  type PathCounts,
  type RegistrationWorkload,
  registrationPath,
  registrationRequest,
  startLoad,
} from '../lib/load.js';
import type { Storage } from '../lib/storage.js';
import { baseEnvironment, settings } from './settings.js';

export interface CpuUse {
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

/** The CPU of the server, this process (the load generator), PostgreSQL and the rest. */
export function cpuMeter(pid: number): () => CpuUse {
  const read = processesCpuMeter({ server: pid });
  return () => {
    const use = read();
    return {
      serverCores: use.serverCores,
      loadGeneratorCores: use.benchCores,
      postgresCores: use.postgresCores,
      machineBusyCores: use.machineBusyCores,
      otherCores: use.serverCores === null ? null : use.otherCores,
      machineCores: use.machineCores,
    };
  };
}

export interface EventLoopDelay {
  /** Event-loop delay beyond prom-client's 10 ms sampling timer, in ms. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/**
 * Bellhop's own event-loop delay histogram (prom-client's default metrics, reset at every
 * scrape): scraped once before a run (reset) and once after it (the run's figures).
 */
export async function scrapeEventLoopDelay(server: ServerProcess): Promise<EventLoopDelay | null> {
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

/** One registration, to check a server answers it as the load expects before loading it. */
export async function probeRegistration(server: ServerProcess, workload: RegistrationWorkload, who: string) {
  const first = await probe(
    server.url,
    registrationPath,
    { ...workload.headers[0] },
    workload.bodies[0] ?? '',
  );
  if (first.status !== 201 || first.body !== '{"message":"success"}') {
    throw new Error(`${who} answered ${first.status} ${first.body} to a registration`);
  }
}

/** One request, to check a server answers what the load expects before loading it. */
export async function probe(
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

export interface RunReport extends LoadResult {
  cpu: CpuUse;
  /**
   * Server CPU milliseconds per answered request: the cost of a request, which a busy machine
   * disturbs much less than req/s (the server's off-CPU waits — fsync, a lock — are not in it).
   */
  serverCpuMsPerRequest: number | null;
  eventLoop?: EventLoopDelay | null;
  paths?: PathCounts;
}

export function describeLoad(result: LoadResult): string {
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

export async function measureRegistrations(
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

export async function warmUp(server: ServerProcess, workload: RegistrationWorkload): Promise<LoadResult> {
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

export async function benchBaseline(workload: RegistrationWorkload): Promise<RunReport> {
  const server = await startServer({
    name: 'baseline',
    entry: 'bench/baseline-server.ts',
    env: baseEnvironment(),
  });
  try {
    await probeRegistration(server, workload, 'baseline');
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

/** After the runs: every distinct token sent must be one row (the upserts did not lose or double any). */
export async function countRows(storage: Storage, workload: RegistrationWorkload) {
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
