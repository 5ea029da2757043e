/** What the scale benchmark's phases share: settings, the fake APNs's arrivals, the processes. */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { sql } from 'kysely';
import { loadConfig } from '../../src/config.js';
import type { DatabaseHandle } from '../../src/db/database.js';
import { TEST_APNS_BUNDLE_ID } from '../../test/fakes/apns-fixtures.js';
import type { FakeApns } from '../../test/fakes/apns-server.js';
import { NPM_START, type ServerProcess, startServer } from '../lib/children.js';
import type { SeededUser } from '../lib/seed.js';
import { integerSetting } from '../lib/settings.js';

const setting = (name: string, fallback: number) => integerSetting(name, fallback, 1);
export const settings = {
  registrations: setting('BENCH_REGISTRATIONS', 1_000_000),
  small: setting('BENCH_SMALL', 10_000),
  fanout: setting('BENCH_FANOUT', 10_000),
  samples: setting('BENCH_SAMPLES', 2_000),
  rings: setting('BENCH_RINGS', 300),
  /** Fan-outs per worker count, alternating 1 and 2 workers; medians are compared. */
  rounds: setting('BENCH_ROUNDS', 3),
  postgresUrl: process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  redisUrl: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
  postgresOptions: process.env.BENCH_POSTGRES_OPTIONS ?? '',
};
export const bundle = TEST_APNS_BUNDLE_ID;
export const adminKey = `bh_${randomBytes(30).toString('base64url')}`;
export const password = 'correct horse battery staple';
export const defaults = loadConfig({});
export const log = (line: string) => process.stdout.write(`${line}\n`);
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
export const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;
/** A 64-hex-digit APNs device token, distinct per (salt, index). */
export const hex = (index: number, salt: number) =>
  `${salt.toString(16)}${index.toString(16).padStart(63, '0')}`;

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return (
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN
  );
}

export async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${adminKey}`, ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** The local TCP ports of a process's sockets (from /proc), to tell which process sent what. */
export function portsOf(pid: number): Set<number> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match?.[1] !== undefined) inodes.add(match[1]);
    } catch {
      // closed meanwhile
    }
  }
  const ports = new Set<number>();
  for (const table of ['tcp', 'tcp6']) {
    for (const line of readFileSync(`/proc/${pid}/net/${table}`, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const port = fields[1]?.split(':')[1];
      if (port !== undefined && fields[9] !== undefined && inodes.has(fields[9]))
        ports.add(Number.parseInt(port, 16));
    }
  }
  return ports;
}

/** What the fake APNs received: rings by ring_id, and the apns-ids of a counted fan-out. */
export class FakeArrivals {
  readonly rings = new Map<string, number>();
  /** apns-id → the client port it came from. */
  readonly fanOut = new Map<string, number | undefined>();
  /** Requests for an apns-id already seen during the fan-out (a delivery sent twice). */
  repeats = 0;
  private counting = false;

  constructor(fake: FakeApns) {
    fake.on('request', (request) => {
      const data = request.payload as { ring_id?: unknown } | undefined;
      if (typeof data?.ring_id === 'string') this.rings.set(data.ring_id, request.at);
      const id = request.headers['apns-id'];
      if (this.counting && typeof id === 'string') {
        if (this.fanOut.has(id)) this.repeats += 1;
        else this.fanOut.set(id, request.remotePort);
      }
    });
  }

  startCounting(): void {
    this.fanOut.clear();
    this.repeats = 0;
    this.counting = true;
  }

  stopCounting(): void {
    this.counting = false;
  }
}

/** The seeded database, the fake and the Bellhop processes of one benchmark run. */
export class ScaleBench {
  private readonly servers: ServerProcess[] = [];

  constructor(
    readonly database: DatabaseHandle,
    readonly fake: FakeApns,
    readonly arrivals: FakeArrivals,
    readonly environment: Record<string, string>,
    readonly passwordHash: string,
    readonly registrants: readonly SeededUser[],
    readonly ringUser: number,
    readonly fanoutUsers: readonly number[],
  ) {}

  async start(name: string, role: string): Promise<ServerProcess> {
    const server = await startServer({ name, entry: NPM_START, env: { ...this.environment, ROLE: role } });
    this.servers.push(server);
    return server;
  }

  async stop(): Promise<void> {
    await Promise.all(this.servers.splice(0).map((server) => server.stop()));
  }

  /**
   * Brings the tables to a steady state, as autovacuum and the checkpointer would have left a
   * table loaded over time, not the minutes of write-back right after a bulk load.
   */
  async settle(): Promise<void> {
    await sql`vacuum analyze`.execute(this.database.db);
    await sql`checkpoint`.execute(this.database.db).catch(() => undefined);
  }
}
