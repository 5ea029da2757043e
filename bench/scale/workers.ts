/** (b) One message fanned out by one, then two, worker processes behind one API process. */
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import {
  machineCpuSeconds,
  postgresCpuSeconds,
  processCpuSeconds,
  type ServerProcess,
} from '../lib/children.js';
import { call, log, percentile, portsOf, round, type ScaleBench, settings, sleep } from './context.js';

/** CPU seconds the processes in `after` used since `before` (a process new since then: all of its own). */
const usedSince = (before: Map<number, number>, after: Map<number, number>) =>
  [...after].reduce((sum, [pid, seconds]) => sum + seconds - (before.get(pid) ?? 0), 0);

interface FanOutRun {
  workers: number;
  delivered: number;
  sentTwice: number;
  seconds: number;
  perSecond: number;
  shares: number[];
  workerCpuSeconds: number[];
  cores: Record<string, number | null>;
}

/** Starts measuring the CPU of the processes involved; the returned function reads it. */
function coresMeter(api: ServerProcess, workers: readonly ServerProcess[]) {
  const cpuBefore = workers.map((worker) => processCpuSeconds(worker.pid) ?? 0);
  const apiBefore = processCpuSeconds(api.pid) ?? 0;
  const postgresBefore = postgresCpuSeconds();
  const machineBefore = machineCpuSeconds();
  const ownBefore = process.cpuUsage();
  const workerSeconds = () =>
    workers.map((worker, index) => (processCpuSeconds(worker.pid) ?? 0) - (cpuBefore[index] ?? 0));
  return {
    workerSeconds,
    /** Cores kept busy over `elapsed` seconds, of the machine's (what limits the throughput). */
    cores(elapsed: number): Record<string, number | null> {
      const machineAfter = machineCpuSeconds();
      const own = process.cpuUsage(ownBefore);
      const share = (cpuSeconds: number) => round(cpuSeconds / elapsed, 2);
      return {
        machine:
          machineBefore === undefined || machineAfter === undefined
            ? null
            : round(
                ((machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total)) *
                  cpus().length,
                2,
              ),
        workers: share(workerSeconds().reduce((sum, seconds) => sum + seconds, 0)),
        api: share((processCpuSeconds(api.pid) ?? 0) - apiBefore),
        postgres: share(usedSince(postgresBefore, postgresCpuSeconds())),
        fakeApnsAndBench: share((own.user + own.system) / 1e6),
      };
    },
  };
}

/** One fan-out to every fan-out user, timed from the 202 until the fake has every apns-id. */
async function fanOut(bench: ScaleBench, api: ServerProcess, workers: ServerProcess[]): Promise<FanOutRun> {
  const { arrivals, fanoutUsers } = bench;
  arrivals.startCounting();
  const meter = coresMeter(api, workers);
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
  while (arrivals.fanOut.size < fanoutUsers.length && performance.now() < deadline) await sleep(20);
  const seconds = (performance.now() - accepted) / 1000;
  const cores = meter.cores((performance.now() - began) / 1000);
  await sleep(1_000); // a delivery sent twice would arrive about now
  arrivals.stopCounting();
  const shares = workers.map((worker) => {
    const ports = portsOf(worker.pid);
    let n = 0;
    for (const port of arrivals.fanOut.values()) if (port !== undefined && ports.has(port)) n += 1;
    return round(n / Math.max(1, arrivals.fanOut.size), 3);
  });
  return {
    workers: workers.length,
    delivered: arrivals.fanOut.size,
    sentTwice: arrivals.repeats,
    seconds: round(seconds, 2),
    perSecond: Math.round(arrivals.fanOut.size / seconds),
    shares,
    workerCpuSeconds: meter.workerSeconds().map((value) => round(value, 1)),
    cores,
  };
}

export async function fanOutByWorkers(bench: ScaleBench) {
  log('\n(b) fan-out with 1 and 2 worker processes');
  const runs: FanOutRun[] = [];
  for (const count of Array.from({ length: settings.rounds }, () => [1, 2]).flat()) {
    // Rounds follow each other within seconds, faster than autovacuum: each starts from the
    // table as autovacuum would leave it, not from the dead rows of the rounds before (which
    // would weigh on whichever worker count comes later).
    await bench.settle();
    const api = await bench.start('api', 'api');
    const workers = [];
    for (let index = 0; index < count; index += 1)
      workers.push(await bench.start(`worker-${index + 1}`, 'worker'));
    await sleep(1_000);
    // Workers are long-lived: a first, unmeasured fan-out takes fresh processes past their
    // start-up (code not yet optimised, connections not yet open), which otherwise weighs
    // twice with two fresh processes.
    await fanOut(bench, api, workers);
    const run = await fanOut(bench, api, workers);
    log(`  ${JSON.stringify(run)}`);
    runs.push(run);
    await bench.stop();
  }
  const perSecond = (count: number) =>
    runs.filter((run) => run.workers === count).map((run) => run.perSecond);
  const one = percentile(perSecond(1), 50);
  const two = percentile(perSecond(2), 50);
  const maxShare = Math.max(...runs.filter((run) => run.workers === 2).flatMap((run) => run.shares));
  log(
    `  median throughput: 1 worker ${one}/s, 2 workers ${two}/s; 2 / 1: ${round(two / one)} (target ≥ 1); ` +
      `largest share with 2: ${maxShare} (target ≤ 0.6)`,
  );
  return {
    fanout: runs,
    fanoutMedians: { oneWorker: one, twoWorkers: two, ratio: round(two / one), largestShare: maxShare },
  };
}
