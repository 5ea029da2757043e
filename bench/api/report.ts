/** The API benchmark's report: its targets and the printed summary. */
import { NPM_START } from '../lib/children.js';
import { number, round, targetsTable } from '../lib/harness.js';
import { type LoadResult, registrationPath } from '../lib/load.js';
import type { CpuUse, RunReport } from './runs.js';
import { type Dialect, settings, targets } from './settings.js';

export interface DatabaseReport {
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

export const cores = (value: number | null) => (value === null ? 'n/a' : `${Math.round(value * 100)}%`);
export const unexpectedCount = (run: LoadResult) => String(run.requests - run.ok + run.errors);

const row = (name: string, run: LoadResult, cpu?: CpuUse) =>
  `| ${name} | ${number(run.rps)} | ${run.latency.p50} | ${run.latency.p99} | ${unexpectedCount(run)} | ` +
  (cpu === undefined
    ? '| | | |'
    : `${cores(cpu.serverCores)} | ${cores(cpu.postgresCores)} | ${cores(cpu.loadGeneratorCores)} | ${cores(cpu.otherCores)} |`);

/** The heading, the set-up and the table of the runs. */
function runTable(report: DatabaseReport): string[] {
  const label = report.database === 'sqlite' ? 'SQLite' : 'PostgreSQL';
  const s = report.settings;
  return [
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
  ];
}

/** The targets, the registrations' mix, event-loop delay, CPU per request, and noise. */
function verdicts(report: DatabaseReport): string[] {
  const paths = report.bellhop.paths;
  const insertShare =
    paths === undefined ? 0 : Math.round((100 * paths.inserts) / (paths.inserts + paths.updates));
  const runs = [report.baseline, report.bellhop, report.bellhopDuringLogins];
  const noisiest = Math.max(...runs.map((run) => run.cpu.otherCores ?? 0));
  return [
    ...targetsTable(report.targets),
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
}

export function summary(report: DatabaseReport): string {
  return [...runTable(report), ...verdicts(report)].join('\n');
}

/** Each target against what the runs measured. */
export function checksOf(
  dialect: Dialect,
  runs: { bellhop: RunReport; during: RunReport; logins: LoadResult },
  ratio: number,
): DatabaseReport['targets'] {
  const { bellhop, during, logins } = runs;
  const all = [bellhop, during, logins];
  return [
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
      value: `${all.reduce((sum, run) => sum + run.requests - run.ok + run.errors, 0)} of ${number(all.reduce((sum, run) => sum + run.requests, 0))} not`,
      pass: all.every((run) => run.requests === run.ok && run.errors === 0),
    },
  ];
}
