/** The API benchmark's settings (environment and flags), targets and the servers' environment. */
import { loadConfig } from '../../src/config.js';
import { postgresProblem } from '../../test/helpers/postgres.js';
import { NPM_START } from '../lib/children.js';
import { log } from '../lib/harness.js';
import { argument, integerSetting } from '../lib/settings.js';

export type Dialect = 'sqlite' | 'postgres';

export const settings = {
  durationSeconds: integerSetting('BENCH_DURATION_SECONDS', 10, 1),
  connections: integerSetting('BENCH_CONNECTIONS', 64, 1),
  users: integerSetting('BENCH_USERS', 10_000, 1),
  tokensPerUser: integerSetting('BENCH_TOKENS_PER_USER', 3, 1),
  loginClients: integerSetting('BENCH_LOGIN_CLIENTS', 16, 1),
  postgresUrl: process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  strict: process.argv.includes('--strict') || process.env.BENCH_STRICT === '1',
  /** Writes a V8 CPU profile of each Bellhop server to bench/results/profiles/. */
  cpuProfile: process.env.BENCH_CPU_PROF === '1',
  /** Another Bellhop entry point (a patched copy of src/main.ts), to measure a change A/B. */
  bellhopEntry: process.env.BENCH_BELLHOP_ENTRY ?? NPM_START,
  /** Extra PostgreSQL settings for Bellhop's connections, e.g. `-c synchronous_commit=off`. */
  postgresOptions: process.env.BENCH_POSTGRES_OPTIONS ?? '',
};

/** The targets. */
export const targets = {
  ratio: { sqlite: 0.5, postgres: 0.35 } satisfies Record<Dialect, number>,
  p99Ms: 30,
  p99UnderLoginsFactor: 2,
};

/** The server's own defaults (OWASP argon2id: 19 MiB, t=2, one hash at a time), set explicitly. */
export const serverDefaults = loadConfig({});
export const password = 'correct horse battery staple';

/**
 * The servers' environment starts empty rather than from this shell's, so that a DATABASE_URL,
 * AUTH_CACHE_TTL_SECONDS or ARGON2_* exported for development cannot change what is measured.
 */
export function baseEnvironment(): Record<string, string | undefined> {
  const { PATH, HOME, TMPDIR, LANG } = process.env;
  return { PATH, HOME, TMPDIR, LANG, NODE_ENV: 'production' };
}

export async function chooseDialects(): Promise<Dialect[]> {
  const wanted = argument('db') ?? process.env.BENCH_DB;
  if (wanted !== undefined && !['sqlite', 'postgres', 'both'].includes(wanted)) {
    throw new Error(`--db must be sqlite, postgres or both (got ${JSON.stringify(wanted)})`);
  }
  if (wanted === 'sqlite') return ['sqlite'];
  const problem = await postgresProblem(settings.postgresUrl);
  if (wanted === undefined) {
    if (problem === undefined) return ['sqlite', 'postgres'];
    log(
      `Note: PostgreSQL at ${settings.postgresUrl} does not answer (${problem}); benchmarking SQLite only.`,
    );
    log('      Set BENCH_POSTGRES_URL or pass --db sqlite to silence this.\n');
    return ['sqlite'];
  }
  if (problem !== undefined)
    throw new Error(`PostgreSQL at ${settings.postgresUrl} does not answer: ${problem}`);
  return wanted === 'both' ? ['sqlite', 'postgres'] : ['postgres'];
}
