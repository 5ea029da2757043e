import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Builds `dist/` as `npm ci` does (the `prepare` script), so that the suites that start a
 * server process run the very bundle `npm start` runs. Once per test run, before any file.
 */
export function buildBundle(): void {
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: repoRoot, stdio: 'inherit' });
}
