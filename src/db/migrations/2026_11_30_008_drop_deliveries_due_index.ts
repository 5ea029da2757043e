import type { Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.

/**
 * Every query on `due_at` (the claim, the sweep, the look-ups by id) is served by the partial
 * `deliveries_claim` index (priority, due_at) or by the primary key. `deliveries_due` held
 * every delivery, settled ones included, and cost an index write on each of a delivery's
 * state changes (stored, claimed, settled), for no reader.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('deliveries_due').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('deliveries_due').on('deliveries').columns(['due_at', 'priority']).execute();
}
