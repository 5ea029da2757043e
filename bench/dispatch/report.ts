/** The dispatch benchmark's report: targets, what limited each run, and the printed summary. */

import { NPM_START } from '../lib/children.js';
import type { CpuUse } from '../lib/cpu.js';
import { number, round, targetsTable } from '../lib/harness.js';
import { describeMakerFanOut, type MakerFanOutReport, makerChecks } from '../lib/maker-fanout.js';
import type { BaselineReport, FanOutReport, MemoryReport, RingReport } from './runs.js';
import { type Dialect, settings, targets } from './settings.js';

export interface Check {
  name: string;
  target: string;
  value: string;
  pass: boolean;
}

export interface DatabaseReport {
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

export const coreShare = (value: number | null) => (value === null ? 'n/a' : `${Math.round(value * 100)}%`);

/** What bounded a run, from where the CPU went (100% = one core; Node runs JS on one thread). */
export function limitOf(name: string, cpu: CpuUse, sender: 'server' | 'baseline'): string {
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

const cpuColumns = (use: CpuUse, sender: 'server' | 'baseline') =>
  `${coreShare(sender === 'server' ? use.serverCores : use.baselineClientCores)} | ${coreShare(use.benchCores)} | ` +
  `${coreShare(use.postgresCores)} | ${coreShare(use.otherCores)}`;

/** The heading, the set-up and the table of the runs. */
function runTable(report: DatabaseReport): string[] {
  const label = report.database === 'sqlite' ? 'SQLite' : 'PostgreSQL';
  const s = report.settings;
  const cpu = cpuColumns;
  const m = report.memory;
  const k = report.makers;
  return [
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
  ];
}

/** The fan-outs' acceptance, the rings' latencies, memory and the makers' requests, in prose. */
function runProse(report: DatabaseReport): string[] {
  const m = report.memory;
  const k = report.makers;
  return [
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
  ];
}

/** The targets, what limited the runs, and every reason to distrust the figures. */
function verdicts(report: DatabaseReport): string[] {
  const s = report.settings;
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
  return [
    ...targetsTable(report.targets),
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
}

export function summary(report: DatabaseReport): string {
  return [...runTable(report), ...runProse(report), ...verdicts(report)].join('\n');
}

interface Runs {
  baseline: BaselineReport;
  bellhop: FanOutReport;
  rings: RingReport;
  memory: MemoryReport | null;
  makers: MakerFanOutReport<CpuUse> | null;
}

/** Each target of the benchmark against what the runs measured. */
export function checksOf({ baseline, bellhop, rings, memory, makers }: Runs): Check[] {
  const ratio = round(bellhop.perSecond / baseline.perSecond, 3);
  return [
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
}

/** What bounded each run. */
export function limitsOf({ baseline, bellhop, rings, memory, makers }: Runs): string[] {
  return [
    limitOf('baseline', baseline.cpu, 'baseline'),
    limitOf('Bellhop fan-out', bellhop.cpu, 'server'),
    limitOf('rings', rings.cpu, 'server'),
    ...(memory === null ? [] : [limitOf('100k fan-out', memory.cpu, 'server')]),
    ...(makers === null ? [] : [limitOf('maker fan-out', makers.cpu, 'server')]),
  ];
}
