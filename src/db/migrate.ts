import {
  type Kysely,
  type Migration,
  type MigrationProvider,
  type MigrationResultSet,
  Migrator,
  PostgresAdapter,
  sql,
} from 'kysely';

import * as accountsAndRegistry from './migrations/2026_11_30_001_accounts_and_registry.js';
import * as appsAndDelivery from './migrations/2026_11_30_002_apps_and_delivery.js';
import * as deliveriesClaimIndex from './migrations/2026_11_30_003_deliveries_claim_index.js';
import * as identities from './migrations/2026_11_30_004_identities.js';
import * as registrationsUserIndex from './migrations/2026_11_30_005_registrations_user_index.js';
import * as deliveriesWaitingIndex from './migrations/2026_11_30_006_deliveries_waiting_index.js';
import * as registrationsFillfactor from './migrations/2026_11_30_007_registrations_fillfactor.js';
import * as providerTokens from './migrations/2026_11_30_008_provider_tokens.js';
import * as apnsJwts from './migrations/2026_12_08_009_apns_jwts.js';

/** Listed by hand, in order, so that no folder scan can break after bundling or compiling. */
const migrations: Record<string, Migration> = {
  '2026_11_30_001_accounts_and_registry': accountsAndRegistry,
  '2026_11_30_002_apps_and_delivery': appsAndDelivery,
  '2026_11_30_003_deliveries_claim_index': deliveriesClaimIndex,
  '2026_11_30_004_identities': identities,
  '2026_11_30_005_registrations_user_index': registrationsUserIndex,
  '2026_11_30_006_deliveries_waiting_index': deliveriesWaitingIndex,
  '2026_11_30_007_registrations_fillfactor': registrationsFillfactor,
  '2026_11_30_008_provider_tokens': providerTokens,
  '2026_12_08_009_apns_jwts': apnsJwts,
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

export class MigrationError extends Error {
  override name = 'MigrationError';
}

/** The schema new tables go to (PostgreSQL's search_path), or undefined on SQLite. */
async function currentPostgresSchema<DB>(db: Kysely<DB>): Promise<string | undefined> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return undefined;
  const result = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
  return result.rows[0]?.schema;
}

/**
 * Runs every pending migration. On PostgreSQL, N processes starting at once take turns: a
 * session advisory lock (per schema) is held around the whole run, including the creation of
 * Kysely's own bookkeeping tables, so the second process finds nothing left to do. With a
 * PostgreSQL schema, the bookkeeping tables live in it too: Kysely looks for them across
 * all schemas and would otherwise find another schema's.
 */
export async function migrateToLatest<DB>(
  db: Kysely<DB>,
  options: { schema?: string | undefined } = {},
): Promise<MigrationResultSet> {
  const schema = options.schema ?? (await currentPostgresSchema(db));
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return migrate(db, schema);
  return db.connection().execute(async (connection) => {
    const lock = `bellhop_migrations:${schema ?? ''}`;
    await sql`select pg_advisory_lock(hashtext(${lock}))`.execute(connection);
    try {
      return await migrate(connection, schema);
    } finally {
      await sql`select pg_advisory_unlock(hashtext(${lock}))`.execute(connection);
    }
  });
}

function migrator<DB>(db: Kysely<DB>, schema: string | undefined): Migrator {
  return new Migrator({ db, provider, ...(schema === undefined ? {} : { migrationTableSchema: schema }) });
}

/** The names of the migrations not applied yet; reads only (nothing is created). */
export async function pendingMigrations<DB>(
  db: Kysely<DB>,
  options: { schema?: string | undefined } = {},
): Promise<string[]> {
  const schema = options.schema ?? (await currentPostgresSchema(db));
  const all = await migrator(db, schema).getMigrations();
  return all.filter((entry) => entry.executedAt === undefined).map((entry) => entry.name);
}

async function migrate<DB>(db: Kysely<DB>, schema: string | undefined): Promise<MigrationResultSet> {
  const result = await migrator(db, schema).migrateToLatest();
  if (result.error !== undefined) {
    const failed = result.results?.find((entry) => entry.status === 'Error')?.migrationName ?? 'unknown';
    throw new MigrationError(`migration ${failed} failed: ${String(result.error)}`, { cause: result.error });
  }
  return result;
}
