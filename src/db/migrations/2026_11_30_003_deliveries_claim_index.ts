import { type Kysely, sql } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.

/**
 * The queue claims `where due_at <= now order by priority, due_at limit n`: with an index in
 * that order the claim reads n index entries instead of sorting every due delivery. Partial
 * (due_at is not null): settled deliveries, the vast majority, are not in it at all.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex('deliveries_claim')
    .on('deliveries')
    .columns(['priority', 'due_at'])
    .where(sql.ref('due_at'), 'is not', null)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('deliveries_claim').execute();
}
