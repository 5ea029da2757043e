/** CPU and memory of the processes a benchmark involves, from /proc. */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { machineCpuSeconds, postgresCpuSeconds, processCpuSeconds } from './children.js';
import { round } from './harness.js';

export interface CpuUse {
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

export function cpuMeter(pids: { server?: number; baseline?: number }): () => CpuUse {
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
export function memoryOf(pid: number): { rssMb: number; hwmMb: number } | undefined {
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
export function rssSampler(pid: number) {
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
