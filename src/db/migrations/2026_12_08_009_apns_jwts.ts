import { type Kysely, PostgresAdapter, sql } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.

/**
 * `provider_tokens` becomes `apns_jwts`: "provider token" names a phone's token at its push
 * provider (`registrations.provider_token`). The rows move with the table: each is the JWT
 * APNs currently holds for a signing key, and signing a new one sooner than 20 minutes after
 * it can be refused (429 TooManyProviderTokenUpdates). One statement on SQLite, which runs
 * migrations outside a transaction; PostgreSQL also renames the primary key's constraint.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('provider_tokens').renameTo('apns_jwts').execute();
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    await sql`alter table apns_jwts rename constraint provider_tokens_pkey to apns_jwts_pkey`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('apns_jwts').renameTo('provider_tokens').execute();
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    await sql`alter table provider_tokens rename constraint apns_jwts_pkey to provider_tokens_pkey`.execute(
      db,
    );
  }
}
