/** What every benchmark does around its runs: output, waiting for quiet, clean-up, git and JSON. */
import { type ChildProcess, execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { machineCpuSeconds, repoRoot, stopAll } from './children.js';

/** Undone last first when the bench ends or is interrupted (schemas, directories, fakes). */
export const cleanups: Array<() => Promise<void>> = [];
/** Child processes of the bench itself (servers are killed in children.ts). */
export const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

export async function runCleanups(): Promise<void> {
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

export const log = (line: string) => process.stdout.write(`${line}\n`);
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
export const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;
export const number = (value: number) => Math.round(value).toLocaleString('en-US');

/** Another benchmark's processes (their command lines), which would disturb the figures. */
export function otherBenchmarks(): string[] {
  try {
    return execFileSync('pgrep', ['-af', 'bench/api.ts'], { encoding: 'utf8' })
      .split('\n')
      .filter((line) => line.trim() !== '');
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

/** Cores busy on the whole machine over `ms`, from /proc/stat. */
export async function machineBusyCores(ms: number): Promise<number | undefined> {
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
export async function waitUntilQuiet(): Promise<void> {
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

export function gitDescription(): string | undefined {
  try {
    const run = (args: string[]) => execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8' }).trim();
    const commit = run(['rev-parse', '--short', 'HEAD']);
    return run(['status', '--porcelain', '--', 'src']) === '' ? commit : `${commit} (src modified)`;
  } catch {
    return undefined;
  }
}

/** Lays a results file out as Biome would (bench/ is linted), when Biome is installed. */
export function formatJson(file: string): void {
  try {
    execFileSync(join(repoRoot, 'node_modules/.bin/biome'), ['format', '--write', file], { stdio: 'ignore' });
  } catch {
    // Still valid JSON, only laid out differently.
  }
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

// ---------------------------------------------------------------------------------------------

/** The machine a report was measured on. */
export function machineDescription() {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

/** A report's targets as a Markdown table, after a blank line. */
export function targetsTable(
  checks: ReadonlyArray<{ name: string; target: string; value: string; pass: boolean }>,
): string[] {
  return [
    '',
    '| target | wanted | measured | |',
    '|---|---|---|---|',
    ...checks.map(
      (check) => `| ${check.name} | ${check.target} | ${check.value} | ${check.pass ? 'PASS' : 'FAIL'} |`,
    ),
  ];
}
