import { type Kysely, PostgresAdapter } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.

/**
 * The APNs provider token (JWT) of each signing key, shared by every process and kept across
 * restarts of Bellhop and of Redis: Apple refuses a key whose token changes more often than
 * every 20 minutes.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema
    .createTable('provider_tokens')
    .addColumn('key', 'text', (col) => col.primaryKey())
    .addColumn('jwt_digest', 'text', (col) => col.notNull())
    .addColumn('sealed_jwt', 'text', (col) => col.notNull())
    .addColumn('issued_at', postgres ? 'bigint' : 'integer', (col) => col.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('provider_tokens').execute();
}
