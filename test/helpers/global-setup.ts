import type { TestProject } from 'vitest/node';
import { postgresProblem } from './postgres.js';

export const defaultPostgresUrl = 'postgres://postgres@127.0.0.1:5432/test';

/**
 * Chooses the databases every suite runs on. `TEST_POSTGRES_URL` set means PostgreSQL is
 * required (CI sets it): unreachable is a failure. Unset, the local default is used when it
 * answers, and its absence is announced rather than passed over quietly.
 */
export default async function setup(project: TestProject): Promise<void> {
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
}

declare module 'vitest' {
  export interface ProvidedContext {
    dialects: Array<'sqlite' | 'postgres'>;
    postgresUrl: string;
  }
}
