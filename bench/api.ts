/**
 * HTTP benchmark of Bellhop's hot path, `POST /v1/api/user/token` (register a phone's push
 * token), against a bare Fastify baseline, on SQLite and PostgreSQL.
 *
 *   npm run bench:api                      # both databases when PostgreSQL answers, else SQLite
 *   npm run bench:api -- --db sqlite       # or postgres, or both
 *   npm run bench:api -- --db both --strict   # exit code 1 when a target fails
 *
 * Environment: BENCH_DB (same as --db), BENCH_DURATION_SECONDS (10), BENCH_CONNECTIONS (64),
 * BENCH_USERS (10000), BENCH_TOKENS_PER_USER (3), BENCH_LOGIN_CLIENTS (16),
 * BENCH_POSTGRES_URL (postgres://postgres@127.0.0.1:5432/test), BENCH_STRICT=1,
 * BENCH_CPU_PROF=1 (V8 CPU profile of the Bellhop server in bench/results/profiles/),
 * BENCH_BELLHOP_ENTRY (default: Bellhop as `npm start` runs it; a .ts file runs through tsx: point it
 * at a patched copy of src/main.ts to measure a change),
 * BENCH_POSTGRES_OPTIONS (added to the server's PostgreSQL `options`, e.g. `-c synchronous_commit=off`).
 *
 * For each database, in one run:
 *  1. seeds 10,000 users with one session each through Bellhop's accounts service (every user
 *     stores a real argon2id hash at the server's settings, computed once);
 *  2. baseline: a bare Fastify app in a child process, same JSON bodies in, same 201 body out
 *     (run again after Bellhop; the faster of the two runs is compared against);
 *  3. Bellhop, started the real way (as `npm start`: the built bundle, configured by environment)
 *     in a child process: a warm-up that sends every session once, then the registration load
 *     (random user, random one of the user's few push tokens: inserts and updates), then the
 *     same load while 16 clients log in continuously at the real argon2 cost.
 * Everything listens on and targets 127.0.0.1; children die with the bench. Results are
 * printed as a table for the README and written to bench/results/api-<db>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { benchDatabase } from './api/database.js';
import { type DatabaseReport, summary } from './api/report.js';
import { chooseDialects, password, serverDefaults, settings } from './api/settings.js';
import { repoRoot, stopAll } from './lib/children.js';
import { log, round, runCleanups } from './lib/harness.js';
import { realPasswordHash } from './lib/seed.js';

async function main(): Promise<void> {
  const dialects = await chooseDialects();
  log(
    `Bellhop API bench: ${dialects.join(' + ')}; ${settings.connections} connections, ${settings.durationSeconds} s per run` +
      (settings.durationSeconds < 10 ? ' (shorter than the 10 s the targets are defined for)' : ''),
  );
  const hashStart = performance.now();
  const passwordHash = await realPasswordHash(serverDefaults.passwords, password);
  log(
    `password hash for every seeded user: argon2id m=${serverDefaults.passwords.memoryKib} KiB, ` +
      `t=${serverDefaults.passwords.iterations} (${round(performance.now() - hashStart, 0)} ms)`,
  );

  const reports: DatabaseReport[] = [];
  for (const dialect of dialects) reports.push(await benchDatabase(dialect, passwordHash));

  const resultsDir = join(repoRoot, 'bench/results');
  mkdirSync(resultsDir, { recursive: true });
  log('\n==================== summary ====================\n');
  for (const report of reports) {
    const file = join(resultsDir, `api-${report.database}.json`);
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    log(summary(report));
    if (report.serverWarnings.length > 0) {
      log(
        `\nBellhop logged ${report.serverWarnings.length} warning(s)/error(s), e.g.:\n${report.serverWarnings[0]}`,
      );
    }
    log(`\n(${file})\n`);
  }
  const failed = reports.filter((report) => !report.pass).map((report) => report.database);
  log(failed.length === 0 ? 'All targets PASS.' : `Targets FAIL on: ${failed.join(', ')}.`);
  if (failed.length > 0 && settings.strict) process.exitCode = 1;
}

try {
  await main();
} catch (error) {
  process.stderr.write(
    `\nbench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
  await stopAll();
} finally {
  await runCleanups();
}
