import {
  type Kysely,
  type Migration,
  type MigrationProvider,
  type MigrationResultSet,
  Migrator,
} from 'kysely';
import * as accountsAndRegistry from './migrations/2026_11_30_001_accounts_and_registry.js';

/** Listed by hand, in order, so that no folder scan can break after bundling or compiling. */
const migrations: Record<string, Migration> = {
  '2026_11_30_001_accounts_and_registry': accountsAndRegistry,
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

export class MigrationError extends Error {
  override name = 'MigrationError';
}

/** Runs every pending migration; Kysely's lock table makes concurrent starts safe. */
export async function migrateToLatest<DB>(db: Kysely<DB>): Promise<MigrationResultSet> {
  const migrator = new Migrator({ db, provider });
  const result = await migrator.migrateToLatest();
  if (result.error !== undefined) {
    const failed = result.results?.find((entry) => entry.status === 'Error')?.migrationName ?? 'unknown';
    throw new MigrationError(`migration ${failed} failed: ${String(result.error)}`, { cause: result.error });
  }
  return result;
}
