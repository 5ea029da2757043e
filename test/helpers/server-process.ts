import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './build.js';

/** The node flags and script of package.json's `start`: the bundle global setup built. */
function startCommand(): string[] {
  const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
    scripts: { start: string };
  };
  const [node, ...args] = manifest.scripts.start.trim().split(/\s+/);
  if (node !== 'node') throw new Error(`unexpected start script: ${manifest.scripts.start}`);
  return args;
}

export interface ServerProcess {
  url: string;
  /** The push channel's TLS port the process chose (CHANNEL_PORT 0), as its banner shows it. */
  channelPort: number | undefined;
  child: ChildProcess;
  output: () => string;
  /** SIGKILL: no shutdown work at all, as in a crash. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts Bellhop as `npm start` does (the built bundle, with its node flags) on a free port,
 * and waits until it serves (a worker-only process, ROLE=worker: until its worker runs; its
 * `url` is then empty).
 */
export async function startServerProcess(
  env: Record<string, string>,
  boundMs = 60_000,
): Promise<ServerProcess> {
  const ready = env.ROLE === 'worker' ? /delivery worker running()/ : /serving on (http:\/\/[^\s]+)/;
  const child = spawn(process.execPath, startCommand(), {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      PORT: '0',
      CHANNEL_PORT: '0',
      HOST: '127.0.0.1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = once(child, 'exit');
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), boundMs);
    const look = () => {
      const match = ready.exec(output);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', look);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${output}`));
    });
  });
  const channelPort = /Push channel: TLS port (\d+)/.exec(output)?.[1];
  return {
    url,
    channelPort: channelPort === undefined ? undefined : Number(channelPort),
    child,
    output: () => output,
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}
