import { type Kysely, PostgresAdapter } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.

function types(db: Kysely<unknown>) {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  return {
    id: postgres ? ('bigserial' as const) : ('integer' as const),
    ref: postgres ? ('bigint' as const) : ('integer' as const),
    time: postgres ? ('bigint' as const) : ('integer' as const),
    autoIncrement: !postgres,
  };
}

export async function up(db: Kysely<unknown>): Promise<void> {
  const t = types(db);

  await db.schema
    .createTable('users')
    .addColumn('id', t.id, (col) => (t.autoIncrement ? col.primaryKey().autoIncrement() : col.primaryKey()))
    .addColumn('username', 'text', (col) => col.notNull())
    .addColumn('username_key', 'text', (col) => col.notNull().unique())
    .addColumn('email', 'text', (col) => col.unique())
    .addColumn('phone', 'text', (col) => col.unique())
    .addColumn('password_hash', 'text')
    .addColumn('created_at', t.time, (col) => col.notNull())
    .addColumn('updated_at', t.time, (col) => col.notNull())
    .execute();

  await db.schema
    .createTable('sessions')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('user_id', t.ref, (col) => col.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', t.time, (col) => col.notNull())
    .addColumn('refreshed_at', t.time, (col) => col.notNull())
    .addColumn('user_agent', 'text')
    .addColumn('ip', 'text')
    .execute();
  await db.schema.createIndex('sessions_user_id').on('sessions').column('user_id').execute();

  await db.schema
    .createTable('session_credentials')
    .addColumn('id', t.id, (col) => (t.autoIncrement ? col.primaryKey().autoIncrement() : col.primaryKey()))
    .addColumn('session_id', 'text', (col) => col.notNull().references('sessions.id').onDelete('cascade'))
    .addColumn('token_hash', 'text', (col) => col.notNull().unique())
    .addColumn('reflash_hash', 'text', (col) => col.notNull().unique())
    .addColumn('token_expires_at', t.time, (col) => col.notNull())
    .addColumn('reflash_expires_at', t.time, (col) => col.notNull())
    .addColumn('created_at', t.time, (col) => col.notNull())
    .addColumn('replaced_at', t.time)
    .execute();
  await db.schema
    .createIndex('session_credentials_session_id')
    .on('session_credentials')
    .column('session_id')
    .execute();

  await db.schema
    .createTable('registrations')
    .addColumn('seq', t.id, (col) => (t.autoIncrement ? col.primaryKey().autoIncrement() : col.primaryKey()))
    .addColumn('user_id', t.ref, (col) => col.notNull().references('users.id').onDelete('cascade'))
    .addColumn('session_id', 'text', (col) => col.references('sessions.id').onDelete('set null'))
    .addColumn('channel', 'text', (col) => col.notNull())
    .addColumn('push_token', 'text', (col) => col.notNull())
    .addColumn('language', 'text', (col) => col.notNull())
    .addColumn('dev', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('bundleid', 'text', (col) => col.notNull())
    .addColumn('os', 'text', (col) => col.notNull().defaultTo(''))
    .addColumn('os_token', 'text', (col) => col.notNull().defaultTo(''))
    .addColumn('push_platform', 'text', (col) => col.notNull().defaultTo(''))
    .addColumn('phone_model', 'text', (col) => col.notNull().defaultTo(''))
    .addColumn('provider', 'text', (col) => col.notNull())
    .addColumn('provider_token', 'text')
    .addColumn('apns_environment', 'text')
    .addColumn('created_at', t.time, (col) => col.notNull())
    .addColumn('updated_at', t.time, (col) => col.notNull())
    .addUniqueConstraint('registrations_channel_push_token', ['channel', 'push_token'])
    .execute();
  await db.schema
    .createIndex('registrations_user_channel')
    .on('registrations')
    .columns(['user_id', 'channel', 'updated_at'])
    .execute();
  await db.schema.createIndex('registrations_session_id').on('registrations').column('session_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('registrations').execute();
  await db.schema.dropTable('session_credentials').execute();
  await db.schema.dropTable('sessions').execute();
  await db.schema.dropTable('users').execute();
}
