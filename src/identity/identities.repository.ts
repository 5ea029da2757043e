import { isPostgres } from '../db/dialect.js';
import type { Executor, IdentitiesTable, IdentityProvider } from '../db/schema.js';

export type IdentityRow = Omit<IdentitiesTable, 'id'> & { id: number };

/** The identity recorded under any of `subjects` of a provider (the first subject preferred). */
export async function findIdentityBySubjects(
  db: Executor,
  provider: IdentityProvider,
  subjects: readonly string[],
): Promise<IdentityRow | undefined> {
  const rows = await db
    .selectFrom('identities')
    .selectAll()
    .where('provider', '=', provider)
    .where('subject', 'in', subjects)
    .execute();
  return rows.sort((a, b) => subjects.indexOf(a.subject) - subjects.indexOf(b.subject))[0];
}

export function findIdentityOfUser(
  db: Executor,
  userId: number,
  provider: IdentityProvider,
): Promise<IdentityRow | undefined> {
  return db
    .selectFrom('identities')
    .selectAll()
    .where('user_id', '=', userId)
    .where('provider', '=', provider)
    .executeTakeFirst();
}

export function listIdentitiesOfUser(db: Executor, userId: number): Promise<IdentityRow[]> {
  return db
    .selectFrom('identities')
    .selectAll()
    .where('user_id', '=', userId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

export async function insertIdentity(db: Executor, identity: Omit<IdentityRow, 'id'>): Promise<void> {
  await db.insertInto('identities').values(identity).execute();
}

/** A later login: a newer subject (WeChat's unionid), name or Apple refresh token replaces the kept one. */
export async function updateIdentity(
  db: Executor,
  id: number,
  changes: Partial<Pick<IdentityRow, 'subject' | 'display_name' | 'credentials'>> & { updated_at: number },
): Promise<void> {
  await db.updateTable('identities').set(changes).where('id', '=', id).execute();
}

export async function deleteIdentity(db: Executor, id: number): Promise<void> {
  await db.deleteFrom('identities').where('id', '=', id).execute();
}

export async function deleteIdentitiesOfUser(db: Executor, userId: number): Promise<void> {
  await db.deleteFrom('identities').where('user_id', '=', userId).execute();
}

/**
 * Serializes changes to one user's ways of logging in until the transaction ends. PostgreSQL
 * locks the user row; SQLite has one writer (and Kysely one connection) at a time already.
 */
export async function lockUser(trx: Executor, userId: number): Promise<void> {
  if (!isPostgres(trx)) return;
  await trx.selectFrom('users').select('id').where('id', '=', userId).forUpdate().execute();
}
