/** The dispatch benchmark's settings (environment and flags), targets and server environment. */
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../src/config.js';
import { TEST_APNS_BUNDLE_ID } from '../../test/fakes/apns-fixtures.js';
import { postgresProblem } from '../../test/helpers/postgres.js';
import { NPM_START } from '../lib/children.js';
import { argument, integerSetting } from '../lib/settings.js';
import type { Storage } from '../lib/storage.js';

export type Dialect = 'sqlite' | 'postgres';

function serverEnvSetting(): Record<string, string> {
  const raw = process.env.BENCH_SERVER_ENV ?? '';
  const result: Record<string, string> = {};
  for (const pair of raw.split(',')) {
    if (pair.trim() === '') continue;
    const at = pair.indexOf('=');
    if (at <= 0) throw new Error(`BENCH_SERVER_ENV: expected NAME=value, got ${JSON.stringify(pair)}`);
    result[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
  }
  return result;
}

export const settings = {
  n: integerSetting('BENCH_N', 20_000, 1),
  memoryUsers: integerSetting('BENCH_MEMORY_USERS', 100_000, 0),
  makerPhones: integerSetting('BENCH_MAKER_PHONES', 10_000, 0),
  ringRate: integerSetting('BENCH_RING_RATE', 100, 1),
  ringSeconds: integerSetting('BENCH_RING_SECONDS', 10, 1),
  connections: integerSetting('BENCH_CONNECTIONS', 2, 1),
  warmup: integerSetting('BENCH_WARMUP', 1_000, 1),
  postgresUrl: process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  postgresOptions: process.env.BENCH_POSTGRES_OPTIONS ?? '',
  strict: process.argv.includes('--strict') || process.env.BENCH_STRICT === '1',
  waitQuiet: process.argv.includes('--wait-quiet') || process.env.BENCH_WAIT_QUIET === '1',
  bellhopEntry: process.env.BENCH_BELLHOP_ENTRY ?? NPM_START,
  serverEnv: serverEnvSetting(),
  /** Extra node flags for the Bellhop server, e.g. `--max-old-space-size=160`. */
  serverNodeFlags: (process.env.BENCH_SERVER_NODE_FLAGS ?? '').split(/\s+/).filter((flag) => flag !== ''),
  /** Extra node flags for the baseline client, e.g. `--cpu-prof`. */
  baselineNodeFlags: (process.env.BENCH_BASELINE_NODE_FLAGS ?? '').split(/\s+/).filter((flag) => flag !== ''),
};

/** The targets. */
export const targets = { ratio: 0.6, ringP50Ms: 5, ringP99Ms: 25, peakRssMb: 300, minN: 20_000 };

/** Bellhop's cap on streams per APNs connection (apns.adapter.ts); the baseline gets the same. */
export const MAX_STREAMS_PER_CONNECTION = 1000;
export const bundle = TEST_APNS_BUNDLE_ID;
export const message = { title: 'Battery low', body: 'The front door camera battery is at 10%' };
export const adminKey = `bh_${randomBytes(30).toString('base64url')}`;
export const masterKey = randomBytes(32).toString('base64');
export const serverDefaults = loadConfig({});

export async function chooseDialects(): Promise<Dialect[]> {
  const wanted = argument('db') ?? process.env.BENCH_DB ?? 'sqlite';
  if (!['sqlite', 'postgres', 'both'].includes(wanted)) {
    throw new Error(`--db must be sqlite, postgres or both (got ${JSON.stringify(wanted)})`);
  }
  if (wanted === 'sqlite') return ['sqlite'];
  const problem = await postgresProblem(settings.postgresUrl);
  if (problem !== undefined)
    throw new Error(`PostgreSQL at ${settings.postgresUrl} does not answer: ${problem}`);
  return wanted === 'both' ? ['sqlite', 'postgres'] : ['postgres'];
}

/** The device token of seeded user `index` of a group: 64 hex digits, distinct per group. */
export const seededToken = (group: number) => (index: number) =>
  `${group.toString(16).padStart(2, '0')}${index.toString(16).padStart(10, '0')}`.padEnd(64, 'e');

export function serverEnvironment(storage: Storage): Record<string, string | undefined> {
  const { PATH, HOME, TMPDIR, LANG } = process.env;
  return {
    PATH,
    HOME,
    TMPDIR,
    LANG,
    NODE_ENV: 'production',
    ...storage.env,
    LOG_LEVEL: 'warn',
    BELLHOP_ADMIN_KEY: adminKey,
    BELLHOP_MASTER_KEY: masterKey,
    SHUTDOWN_GRACE_MS: '3000',
    ...settings.serverEnv,
  };
}
