/**
 * Push channel benchmark: how many phones one Bellhop process holds on the push socket, and
 * how fast notifications reach them.
 *
 *   npm run bench:channel
 *   npm run bench:channel -- --phones 10000 --hold 180 --rings 200 --client-processes 2
 *
 * One Bellhop server (as `npm start` runs it, embedded SQLite, server defaults:
 * heartbeat every 60 s, idle limit 180 s) and phones in separate client processes
 * (bench/channel-phones.ts), each phone a TLS connection that registers, answers every frame
 * with a heartbeat and gives up after 130 s without a frame, as Lancens clients do.
 *  (a) memory and liveness: the server's RSS (VmRSS) before the phones connect and after,
 *      divided by the phones; then the phones are held, with no traffic but heartbeats, for
 *      --hold seconds (180), and every one must still be connected at the end;
 *  (b) ring latency: --rings rings (200), one `POST /v1/push` at a time, to a user with one
 *      connected phone while the others are connected; from just before the request is issued
 *      to the phone's process reading the event frame (both on the machine's clock:
 *      performance.timeOrigin + now). p50, p99, max;
 *  (c) fan-out: one message to every phone's user (one request listing all users); from just
 *      before the request to the last phone reading it.
 * Users and registrations are seeded into the database before the server starts; the push
 * tokens are those the server issues (derived from the master key the bench sets).
 * 10,000 phones need about 10,000 file descriptors in the server (`ulimit -n`).
 * BENCH_SERVER_NODE_FLAGS adds node flags to the server (e.g. `--trace-gc`).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createChannelTokens } from '../src/channel/tokens.js';
import { createSecretBox } from '../src/crypto/secret-box.js';
import { migrateToLatest } from '../src/db/migrate.js';
import type { RegistrationsTable } from '../src/db/schema.js';
import type { PhonesReport, PhonesStart } from './channel-phones.js';
import { freePort, NPM_START, repoRoot, startServer, stopAll } from './lib/children.js';
import { argument } from './lib/settings.js';
import { prepareStorage } from './lib/storage.js';

function flag(name: string, fallback: number): number {
  const given = argument(name);
  if (given === undefined) return fallback;
  const value = Number(given);
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} must be a whole number`);
  return value;
}

const settings = {
  phones: Math.max(1, flag('phones', 10_000)),
  holdSeconds: flag('hold', 180),
  rings: Math.max(1, flag('rings', 200)),
  clientProcesses: Math.max(1, flag('client-processes', 2)),
};
const targets = { bytesPerConnection: 40 * 1024, ringP99Ms: 20, fanoutMs: 2_000 };
const bundleId = 'com.example.bench.channel';
const masterKey = randomBytes(32).toString('base64');
const adminKey = `bh_${randomBytes(30).toString('base64url')}`;

const log = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const wallClock = () => performance.timeOrigin + performance.now();
const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;
const verdict = (ok: boolean) => (ok ? 'meets the target' : 'MISSES the target');

function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN) * 1024;
}

/** The lowest of a few readings a little apart: garbage not yet collected inflates one reading. */
async function settledRss(pid: number): Promise<number> {
  let lowest = Number.POSITIVE_INFINITY;
  for (let reading = 0; reading < 5; reading += 1) {
    lowest = Math.min(lowest, rssBytes(pid));
    await sleep(1_000);
  }
  return lowest;
}

function percentile(sorted: readonly number[], p: number): number {
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

async function post(base: string, body: unknown): Promise<string> {
  const response = await fetch(`${base}/v1/push`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const answer = (await response.json()) as { id?: string };
  if (response.status !== 202 || answer.id === undefined)
    throw new Error(`POST /v1/push: ${response.status} ${JSON.stringify(answer)}`);
  return answer.id;
}

async function main(): Promise<void> {
  const storage = await prepareStorage('sqlite', { name: 'channel', postgresUrl: '', poolSize: 1 });
  const children: ChildProcess[] = [];
  process.on('exit', () => {
    for (const child of children) child.kill('SIGKILL');
  });
  try {
    // Users 0 … n-1, each with the phone of the same number as message registration; user 0's
    // phone is also its ring registration.
    const tokens = createChannelTokens(
      createSecretBox(Buffer.from(masterKey, 'base64')).deriveKey('push channel tokens'),
    );
    const database = storage.open();
    await migrateToLatest(database.db);
    const now = Date.now();
    const userIds: number[] = [];
    for (let start = 0; start < settings.phones; start += 1000) {
      const end = Math.min(settings.phones, start + 1000);
      const users = [];
      for (let index = start; index < end; index += 1)
        users.push({
          username: `phone${index}`,
          username_key: `phone${index}`,
          email: null,
          phone: null,
          password_hash: null,
          created_at: now,
          updated_at: now,
        });
      const inserted = await database.db
        .insertInto('users')
        .values(users)
        .returning(['id', 'username'])
        .execute();
      const byName = new Map(inserted.map((row) => [row.username, Number(row.id)]));
      const registrations: Array<Omit<RegistrationsTable, 'seq'>> = [];
      for (let index = start; index < end; index += 1) {
        const id = byName.get(`phone${index}`) ?? 0;
        userIds.push(id);
        const token = tokens.issue({ bundleId, imei: `bench-${index}`, imsi: '' });
        const row = {
          user_id: id,
          session_id: null,
          push_token: token,
          language: 'en',
          dev: 0,
          bundleid: bundleId,
          os: 'ANDROID',
          os_token: '',
          push_platform: 'ANDROID',
          phone_model: 'bench',
          provider: 'channel',
          provider_token: token,
          apns_environment: null,
          created_at: now,
          updated_at: now,
        };
        registrations.push({ ...row, channel: 'message' });
        if (index === 0) registrations.push({ ...row, channel: 'ring' });
      }
      await database.db.insertInto('registrations').values(registrations).execute();
    }
    await database.close();

    const channelPort = await freePort();
    const server = await startServer({
      name: 'bellhop',
      entry: NPM_START,
      // e.g. BENCH_SERVER_NODE_FLAGS=--trace-gc to see the heap's share of the RSS.
      nodeFlags: (process.env.BENCH_SERVER_NODE_FLAGS ?? '').split(/\s+/).filter((flag) => flag !== ''),
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        ...storage.env,
        LOG_LEVEL: 'warn',
        BELLHOP_MASTER_KEY: masterKey,
        BELLHOP_ADMIN_KEY: adminKey,
        CHANNEL_PORT: String(channelPort),
      },
    });
    // Warm the send path up (no targets) before the first reading.
    for (let index = 0; index < 20; index += 1)
      await post(server.url, { channel: 'message', users: [999_999_999] });
    const rssBefore = await settledRss(server.pid);
    log(`Server RSS before the phones connect: ${round(rssBefore / 1048576)} MiB`);

    // (a) connect
    const reports: PhonesReport[] = [];
    const listeners = new Set<() => void>();
    const per = Math.ceil(settings.phones / settings.clientProcesses);
    const connectStarted = wallClock();
    for (let from = 0; from < settings.phones; from += per) {
      const child = fork(join(repoRoot, 'bench/channel-phones.ts'), [], {
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      children.push(child);
      child.on('message', (report: PhonesReport) => {
        reports.push(report);
        for (const listener of listeners) listener();
      });
      child.send({
        type: 'start',
        port: channelPort,
        from,
        to: Math.min(settings.phones, from + per),
        bundleId,
        masterKey,
        idleTimeoutMs: 130_000,
        concurrency: 100,
      } satisfies PhonesStart);
    }
    const waitFor = <T extends PhonesReport['type']>(type: T, count: number, timeoutMs: number) =>
      new Promise<Array<Extract<PhonesReport, { type: T }>>>((resolve, reject) => {
        const check = () => {
          const found = reports.filter(
            (report): report is Extract<PhonesReport, { type: T }> => report.type === type,
          );
          if (found.length >= count) {
            listeners.delete(check);
            clearTimeout(timer);
            resolve(found);
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`timed out waiting for ${count} "${type}" reports`));
        }, timeoutMs);
        listeners.add(check);
        check();
      });
    const connected = await waitFor('connected', children.length, 600_000);
    const count = connected.reduce((sum, report) => sum + report.count, 0);
    const matched = connected.reduce((sum, report) => sum + report.tokensMatched, 0);
    log(
      `Connected ${count} phones in ${round((wallClock() - connectStarted) / 1000)} s; ${matched} got the token the bench expected`,
    );
    const rssAfter = await settledRss(server.pid);
    const perConnection = (rssAfter - rssBefore) / count;
    log(`Server RSS with the phones connected: ${round(rssAfter / 1048576)} MiB`);

    const status = async () => {
      reports.splice(0, reports.length, ...reports.filter((report) => report.type !== 'status'));
      for (const child of children) child.send({ type: 'status' });
      const found = await waitFor('status', children.length, 30_000);
      return {
        alive: found.reduce((sum, report) => sum + report.alive, 0),
        dropped: found.reduce((sum, report) => sum + report.dropped, 0),
        idleGaveUp: found.reduce((sum, report) => sum + report.idleGaveUp, 0),
        heartbeats: found.reduce((sum, report) => sum + report.heartbeats, 0),
      };
    };
    if (settings.holdSeconds > 0) {
      log(`Holding them for ${settings.holdSeconds} s with no traffic but heartbeats…`);
      await sleep(settings.holdSeconds * 1000);
    }
    const held = await status();
    const rssHeld = rssBytes(server.pid);
    log(
      `After ${settings.holdSeconds} s: ${held.alive} of ${count} connected, ${held.dropped} dropped (${held.idleGaveUp} by the phones' 130 s timeout), ${held.heartbeats} heartbeats received; server RSS ${round(rssHeld / 1048576)} MiB`,
    );

    // (b) rings to user 0 (phone 0) while the others are connected
    const latencies: number[] = [];
    for (let seq = 0; seq < settings.rings; seq += 1) {
      const before = reports.length;
      const issued = wallClock();
      await post(server.url, {
        channel: 'ring',
        users: [userIds[0]],
        title: 'Front door',
        data: { bench: 'ring', seq: String(seq) },
      });
      const deadline = Date.now() + 10_000;
      let arrival: number | undefined;
      while (arrival === undefined) {
        const found = reports.slice(before).find((report) => report.type === 'ring' && report.seq === seq) as
          | { at: number }
          | undefined;
        if (found !== undefined) arrival = found.at;
        else if (Date.now() > deadline) throw new Error(`ring ${seq} did not arrive`);
        else await new Promise<void>((resolve) => setImmediate(resolve));
      }
      latencies.push(arrival - issued);
      await sleep(10);
    }
    latencies.sort((a, b) => a - b);

    // (c) one message to every phone
    const fanoutStart = wallClock();
    await post(server.url, {
      channel: 'message',
      users: userIds,
      title: 'Storm warning',
      data: { bench: 'fanout' },
    });
    const fanout = await waitFor('fanout', children.length, 60_000);
    const fanoutMs = Math.max(...fanout.map((report) => report.at)) - fanoutStart;
    const received = fanout.reduce((sum, report) => sum + report.received, 0);

    await server.stop();
    const p99 = percentile(latencies, 99);
    log('');
    log(`Push channel, ${count} phones on one server process (indicative: shared 2-core machine)`);
    log(
      `(a) server RSS per connection: ${round(perConnection / 1024)} KiB (target ≤ ${targets.bytesPerConnection / 1024} KiB) — ${verdict(perConnection <= targets.bytesPerConnection)}`,
    );
    log(
      `    held ${settings.holdSeconds} s: ${held.alive}/${count} still connected — ${verdict(held.alive === count && count === settings.phones)}`,
    );
    log(
      `(b) ring, request to frame, ${latencies.length} rings: p50 ${round(percentile(latencies, 50), 2)} ms, p99 ${round(p99, 2)} ms, max ${round(latencies.at(-1) ?? Number.NaN, 2)} ms (target p99 ≤ ${targets.ringP99Ms} ms) — ${verdict(p99 <= targets.ringP99Ms)}`,
    );
    log(
      `(c) message to all ${received} phones: last frame read ${round(fanoutMs)} ms after the request (target ≤ ${targets.fanoutMs} ms) — ${verdict(received === count && fanoutMs <= targets.fanoutMs)}`,
    );
  } finally {
    for (const child of children) child.kill('SIGKILL');
    await stopAll();
    await storage.drop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(
      `bench:channel failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
