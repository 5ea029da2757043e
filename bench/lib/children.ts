import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const repoRoot = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const exitWithParent = pathToFileURL(join(repoRoot, 'bench/lib/exit-with-parent.mjs')).href;

/** `entry` for Bellhop as `npm start` runs it: the built bundle, with the start script's node flags. */
export const NPM_START = 'npm start';

let built = false;

/** The node flags and script of package.json's `start` (`node <flags> <script>`), after a build of the bundle. */
function npmStartCommand(): { flags: string[]; script: string } {
  const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const start = manifest.scripts.start ?? '';
  const words = (start.split('&&').pop() ?? '').trim().split(/\s+/);
  const script = words.pop();
  if (words.shift() !== 'node' || script === undefined) throw new Error(`unexpected start script: ${start}`);
  if (!built) {
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: repoRoot, stdio: 'inherit' });
    built = true;
  }
  return { flags: words, script };
}

/** Every server this process started and has not seen exit; killed on the way out whatever happens. */
const running = new Set<ChildProcess>();

process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export interface ServerProcess {
  name: string;
  url: string;
  pid: number;
  /** The last lines the server wrote (stdout and stderr). */
  output(): string;
  /** Lines the server wrote at level warn or above (pino JSON) since the last call. */
  takeWarnings(): string[];
  stop(): Promise<void>;
}

/** A port nobody listens on now, on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Starts a server on 127.0.0.1 and waits until GET /readyz answers 200: Bellhop as `npm start`
 * runs it (`entry: NPM_START`), or a TypeScript file through tsx.
 */
export async function startServer(options: {
  name: string;
  entry: string;
  env: Record<string, string | undefined>;
  /** Extra node flags, e.g. `--cpu-prof`. */
  nodeFlags?: string[];
  readyTimeoutMs?: number;
}): Promise<ServerProcess> {
  const port = await freePort();
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...options.env, PORT: String(port), HOST: '127.0.0.1' })) {
    if (value !== undefined) env[key] = value;
  }
  const command =
    options.entry === NPM_START ? npmStartCommand() : { flags: ['--import', 'tsx'], script: options.entry };
  const args = [...command.flags, ...(options.nodeFlags ?? []), '--import', exitWithParent, command.script];
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const lines: string[] = [];
  let warnings: string[] = [];
  let exited: string | undefined;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      exited = signal === null ? `exit code ${code}` : `signal ${signal}`;
      resolve();
    });
  });
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      lines.push(line);
      if (lines.length > 60) lines.shift();
      const level = /"level":(\d+)/.exec(line)?.[1];
      if (level !== undefined && Number(level) >= 40 && warnings.length < 50) warnings.push(line);
    }
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);

  const url = `http://127.0.0.1:${port}`;
  const server: ServerProcess = {
    name: options.name,
    url,
    pid: child.pid ?? -1,
    output: () => lines.join('\n'),
    takeWarnings: () => {
      const taken = warnings;
      warnings = [];
      return taken;
    },
    async stop() {
      if (exited !== undefined) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exit;
      clearTimeout(killer);
    },
  };

  await waitUntilReady(server, {
    worker: env.ROLE === 'worker',
    exited: () => exited,
    lines,
    timeoutMs: options.readyTimeoutMs ?? 60_000,
  });
  return server;
}

/**
 * Waits until the server answers GET /readyz with 200 (a worker: until it logs that it runs);
 * stops it and throws when it exits first or the time runs out.
 */
async function waitUntilReady(
  server: ServerProcess,
  state: { worker: boolean; exited: () => string | undefined; lines: readonly string[]; timeoutMs: number },
): Promise<void> {
  const deadline = Date.now() + state.timeoutMs;
  for (;;) {
    const exited = state.exited();
    if (exited !== undefined) {
      throw new Error(`${server.name} stopped before it was ready (${exited}):\n${server.output()}`);
    }
    if (state.worker && state.lines.some((line) => line.includes('delivery worker running'))) return;
    if (!state.worker)
      try {
        const response = await fetch(`${server.url}/readyz`, { signal: AbortSignal.timeout(1_000) });
        if (response.status === 200) return;
      } catch {
        // not listening yet
      }
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`${server.name} was not ready within the timeout:\n${server.output()}`);
    }
    await sleep(100);
  }
}

/** Kills what is still running; for error paths, where the normal stop() did not happen. */
export async function stopAll(): Promise<void> {
  for (const child of running) child.kill('SIGTERM');
  const deadline = Date.now() + 5_000;
  while (running.size > 0 && Date.now() < deadline) await sleep(50);
  for (const child of running) child.kill('SIGKILL');
}

/** Command name and CPU seconds (user + system) of a process, from /proc/<pid>/stat. */
function readStat(pid: number | string): { command: string; cpuSeconds: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const command = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    // Fields after the command name (which may hold spaces) start at field 3; utime is 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? { command, cpuSeconds: ticks / 100 } : undefined; // USER_HZ = 100
  } catch {
    return undefined;
  }
}

/** CPU seconds a process has used; undefined where there is no /proc. */
export function processCpuSeconds(pid: number): number | undefined {
  return readStat(pid)?.cpuSeconds;
}

/**
 * CPU seconds used so far by every process named `postgres` on this machine, by pid (a local
 * PostgreSQL's backends; other clients' backends too, which is what a noisy machine looks like).
 */
export function postgresCpuSeconds(): Map<number, number> {
  const result = new Map<number, number>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return result;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(entry);
    if (stat?.command === 'postgres') result.set(Number(entry), stat.cpuSeconds);
  }
  return result;
}

/** Busy and total CPU seconds of the whole machine (all cores), from /proc/stat. */
export function machineCpuSeconds(): { busy: number; total: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const values = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = values.reduce((sum, value) => sum + value, 0);
    const idle = (values[3] ?? 0) + (values[4] ?? 0);
    return { busy: (total - idle) / 100, total: total / 100 };
  } catch {
    return undefined;
  }
}
