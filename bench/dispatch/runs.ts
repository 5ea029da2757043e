/** The runs of the dispatch benchmark: baseline client, Bellhop fan-outs, rings, memory. */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { FakeApns } from '../../test/fakes/apns-server.js';
import type { BaselineReply, BaselineStart } from '../dispatch-baseline-client.js';
import type { PlainRunResult } from '../lib/apns-client.js';
import { repoRoot, type ServerProcess, startServer } from '../lib/children.js';
import { type CpuUse, cpuMeter, memoryOf, rssSampler } from '../lib/cpu.js';
import { children, log, percentile, round, sleep } from '../lib/harness.js';
import type { Storage } from '../lib/storage.js';
import { api, waitSettled } from './admin-api.js';
import type { Arrivals } from './arrivals.js';
import { MAX_STREAMS_PER_CONNECTION, message, serverEnvironment, settings, targets } from './settings.js';

export interface BaselineReport {
  deliveries: number;
  /** From "go" to the fake receiving the last request. */
  seconds: number;
  perSecond: number;
  client: PlainRunResult;
  warmup: PlainRunResult;
  repeats: number;
  cpu: CpuUse;
}

export async function runBaseline(fake: FakeApns, arrivals: Arrivals): Promise<BaselineReport> {
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

export interface FanOutReport {
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

export async function fanOut(
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

export interface RingReport {
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

export async function measureRings(
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
  return ringFigures(arrivals, rings, start, count, meter());
}

export interface MemoryReport extends FanOutReport {
  /** RSS of the fresh server, ready and idle, before the request. */
  idleRssMb: number;
  /** VmHWM at the end: the peak resident set of the process's whole life. */
  vmHwmMb: number;
  maxSampledRssMb: number;
  samples: number;
  /** RSS every 250 ms (ms since the request, MiB), for a plot. */
  series: Array<[number, number]>;
}

/** Bellhop as the settings say to run it, on the benchmark's storage. */
export function startBellhop(name: string, storage: Storage): Promise<ServerProcess> {
  return startServer({
    name,
    entry: settings.bellhopEntry,
    nodeFlags: settings.serverNodeFlags,
    env: serverEnvironment(storage),
  });
}

export async function measureMemory(
  storage: Storage,
  arrivals: Arrivals,
  users: readonly number[],
): Promise<MemoryReport> {
  const server = await startBellhop('Bellhop (memory run)', storage);
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

/** Latencies of the rings sent, from the moment each was issued to its arrival at the fake. */
function ringFigures(
  arrivals: Arrivals,
  rings: ReadonlyArray<{ id: string; issued: number; accepted: number }>,
  start: number,
  count: number,
  cpu: CpuUse,
): RingReport {
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
