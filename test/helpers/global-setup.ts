import type { TestProject } from 'vitest/node';
import { buildBundle } from './build.js';
import { postgresProblem } from './postgres.js';
import { redisProblem } from './redis.js';

export const defaultPostgresUrl = 'postgres://postgres@127.0.0.1:5432/test';
export const defaultRedisUrl = 'redis://127.0.0.1:6379';

/**
 * Chooses the databases every suite runs on. `TEST_POSTGRES_URL` set means PostgreSQL is
 * required (CI sets it): unreachable is a failure. Unset, the local default is used when it
 * answers, and its absence is announced rather than passed over quietly.
 */
export default async function setup(project: TestProject): Promise<void> {
  buildBundle();
  // TEST_DIALECTS=sqlite (npm run test:fast): SQLite only, and no Redis, for the edit loop.
  if (process.env.TEST_DIALECTS === 'sqlite') {
    project.provide('dialects', ['sqlite']);
    project.provide('postgresUrl', '');
    project.provide('redisUrl', '');
    return;
  }
  const explicit = process.env.TEST_POSTGRES_URL;
  const url = explicit ?? defaultPostgresUrl;
  const problem = await postgresProblem(url);
  if (problem !== undefined && explicit !== undefined) {
    throw new Error(`TEST_POSTGRES_URL=${explicit} is not reachable: ${problem}`);
  }
  if (problem !== undefined) {
    process.stderr.write(
      `\n*** PostgreSQL at ${url} is not reachable (${problem}): suites run on SQLite only.\n` +
        '*** Set TEST_POSTGRES_URL to require PostgreSQL (CI does).\n\n',
    );
  }
  project.provide('dialects', problem === undefined ? ['sqlite', 'postgres'] : ['sqlite']);
  project.provide('postgresUrl', url);

  // The same for Redis (the scale-out suites): TEST_REDIS_URL set means required.
  const explicitRedis = process.env.TEST_REDIS_URL;
  const redisUrl = explicitRedis ?? defaultRedisUrl;
  const redisIssue = await redisProblem(redisUrl);
  if (redisIssue !== undefined && explicitRedis !== undefined) {
    throw new Error(`TEST_REDIS_URL=${explicitRedis} is not reachable: ${redisIssue}`);
  }
  if (redisIssue !== undefined) {
    process.stderr.write(
      `\n*** Redis at ${redisUrl} is not reachable (${redisIssue}): the scale-out suites are skipped.\n` +
        '*** Set TEST_REDIS_URL to require Redis (CI does).\n\n',
    );
  }
  project.provide('redisUrl', redisIssue === undefined ? redisUrl : '');
}

declare module 'vitest' {
  export interface ProvidedContext {
    dialects: Array<'sqlite' | 'postgres'>;
    postgresUrl: string;
    /** Empty when Redis is not there (and not required). */
    redisUrl: string;
  }
}
