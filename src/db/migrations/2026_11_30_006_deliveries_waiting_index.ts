import { type Kysely, sql } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.

/**
 * Deliveries waiting for a phone to connect to the push channel (reason `offline`) are
 * looked up by token whenever a phone connects. Partial: only the waiting ones are in it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex('deliveries_waiting')
    .on('deliveries')
    .columns(['token'])
    .where(sql.ref('reason'), '=', 'offline')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('deliveries_waiting').execute();
}
