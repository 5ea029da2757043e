import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === 'object' && address !== null ? address.port : 0;
}

/** The shell block of the README's "Try it", without its `npm ci` (global setup built dist/). */
function tryItScript(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const block = /## Try it\n[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1];
  if (block === undefined) throw new Error('README.md has no "Try it" shell block');
  return block
    .split('\n')
    .filter((line) => line.trim() !== 'npm ci')
    .join('\n');
}

describe("the README's Try it", () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'bellhop-try-it-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('works pasted into an interactive shell: the ring shows up in the default app inbox', async () => {
    const port = await freePort();
    // `set -m`: job control, as in an interactive shell, so that `kill %1` stops the server.
    const run = spawnSync('bash', ['-c', `set -m\n${tryItScript()}`], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        PORT: String(port),
        CHANNEL_PORT: '0',
        DATA_DIR: dataDir,
        LOG_LEVEL: 'warn',
        ARGON2_MEMORY_KIB: '64',
        ARGON2_ITERATIONS: '1',
      },
      encoding: 'utf8',
      timeout: 90_000,
    });
    expect(run.status, run.stderr + run.stdout).toBe(0);
    expect(run.stdout).toMatch(/"token":"[^"]+"/);
    expect(run.stdout).toContain('{"message":"success"}');
    expect(run.stdout).toMatch(/"targets":1/);
    expect(run.stdout).toMatch(/"provider":"apns".*"apns-push-type":"voip"/);
  }, 120_000);
});
