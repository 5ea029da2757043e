/**
 * Dispatch benchmark: how fast and how lean Bellhop gets notifications to APNs, against a plain
 * HTTP/2 sender, with a fake APNs in this process.
 *
 *   npm run bench:dispatch                       # SQLite
 *   npm run bench:dispatch -- --db postgres      # or both
 *   npm run bench:dispatch -- --db both --strict --wait-quiet
 *
 * In one run, per database:
 *  (a) throughput — baseline: a plain node:http2 client (bench/lib/apns-client.ts, in a child
 *      process of its own as Bellhop is; token auth with one reused ES256 JWT, BENCH_CONNECTIONS
 *      connections, streams pipelined up to SETTINGS_MAX_CONCURRENT_STREAMS within the send
 *      window) sends N alert pushes straight to the fake. Bellhop: ONE `POST /v1/push` message
 *      to N users with one iPhone registration each; measured from its 202 to the moment the
 *      fake APNs has received all N requests. Deliveries/s of both and the ratio.
 *  (b) ring latency — rings, one per `POST /v1/push`, at BENCH_RING_RATE/s for BENCH_RING_SECONDS
 *      to one user with one iPhone ring registration; latency = from just before the request is
 *      issued to the fake receiving that ring (matched by `ring_id`), both on this process's
 *      performance.now() clock. p50, p99, max.
 *  (c) memory — a fresh Bellhop process fans one message out to BENCH_MEMORY_USERS (100,000)
 *      users (one request, the whole users list); its peak RSS (VmHWM, and VmRSS sampled every
 *      50 ms from /proc/<pid>/status) until every delivery is recorded.
 *  (d) maker phones — a fresh Bellhop process sends ONE `POST /v1/push` message to
 *      BENCH_MAKER_PHONES (10,000) Xiaomi + as many Huawei + as many OPPO phones (one app with
 *      all three makers' settings; fakes in this process); deliveries/s from the 202 to the last
 *      token received, and the HTTP requests each fake received against ceil(N / 1000)
 *      (bench/lib/maker-fanout.ts).
 *
 * The fake APNs (test/fakes/apns-server.ts, record: false, a 16 MiB connection window) runs in
 * this process; Bellhop runs as `npm start` runs it (bench/lib/children.ts), its
 * environment built from scratch: LOG_LEVEL=warn and the server's defaults otherwise
 * (WORKER_POLL_MS 1000, WORKER_BATCH_SIZE 500, …). Users and registrations are seeded straight
 * into the database before the server starts. Everything is on 127.0.0.1; children die with
 * the bench; temporary databases are removed.
 *
 * Environment: BENCH_N (20000), BENCH_MEMORY_USERS (100000; 0 skips (c)), BENCH_MAKER_PHONES
 * (10000 per maker; 0 skips (d)), BENCH_RING_RATE (100),
 * BENCH_RING_SECONDS (10), BENCH_CONNECTIONS (2), BENCH_WARMUP (1000), BENCH_DB, BENCH_STRICT=1,
 * BENCH_POSTGRES_URL (postgres://postgres@127.0.0.1:5432/test), BENCH_POSTGRES_OPTIONS (server
 * settings for Bellhop's connections, e.g. `-c auto_explain.log_min_duration=20`), BENCH_BELLHOP_ENTRY (default
 * Bellhop as `npm start` runs it; a .ts file runs through tsx: point it at a patched copy to measure a change), BENCH_SERVER_ENV (extra server
 * variables, `NAME=value,NAME=value`), BENCH_SERVER_NODE_FLAGS (extra node flags for the
 * server, e.g. `--max-old-space-size=160`), BENCH_BASELINE_NODE_FLAGS (the same for the
 * baseline client, e.g. `--cpu-prof`), BENCH_WAIT_QUIET=1 (same as --wait-quiet: first
 * wait until no other benchmark runs and the machine is idle). Results: printed, and
 * bench/results/dispatch-<db>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { agent } from './dispatch/admin-api.js';
import { benchDatabase } from './dispatch/database.js';
import { type DatabaseReport, summary } from './dispatch/report.js';
import { chooseDialects, serverDefaults, settings } from './dispatch/settings.js';
import { repoRoot, stopAll } from './lib/children.js';
import { children, formatJson, log, number, runCleanups, waitUntilQuiet } from './lib/harness.js';
import { realPasswordHash } from './lib/seed.js';

async function main(): Promise<void> {
  const dialects = await chooseDialects();
  if (settings.waitQuiet) await waitUntilQuiet();
  log(
    `Bellhop dispatch bench: ${dialects.join(' + ')}; N = ${number(settings.n)}, rings ${settings.ringRate}/s × ${settings.ringSeconds} s, ` +
      `memory fan-out ${number(settings.memoryUsers)} users, maker phones ${number(settings.makerPhones)} per maker`,
  );
  const passwordHash = await realPasswordHash(serverDefaults.passwords, 'correct horse battery staple');
  const reports: DatabaseReport[] = [];
  for (const dialect of dialects) reports.push(await benchDatabase(dialect, passwordHash));

  const resultsDir = join(repoRoot, 'bench/results');
  mkdirSync(resultsDir, { recursive: true });
  log('\n==================== summary ====================\n');
  for (const report of reports) {
    const file = join(resultsDir, `dispatch-${report.database}.json`);
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    formatJson(file);
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
  for (const child of children) child.kill('SIGKILL');
  await stopAll();
} finally {
  await runCleanups();
  agent.destroy();
}
