import type { Kysely } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.

/**
 * A phone re-registering its token changes the row's `updated_at`. With that column in an
 * index, every re-registration rewrote an index entry (and on PostgreSQL ruled out a HOT
 * update); a user's rows are few (at most 100 per channel), so sorting them by `updated_at`
 * when trimming costs nothing.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('registrations_user_channel').execute();
  await db.schema
    .createIndex('registrations_user_channel')
    .on('registrations')
    .columns(['user_id', 'channel'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('registrations_user_channel').execute();
  await db.schema
    .createIndex('registrations_user_channel')
    .on('registrations')
    .columns(['user_id', 'channel', 'updated_at'])
    .execute();
}
