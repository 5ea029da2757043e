import type { Executor, SessionCredentialsTable, SessionsTable } from '../db/schema.js';

export type CredentialRow = Omit<SessionCredentialsTable, 'id'> & { id: number };

export async function insertSession(db: Executor, session: SessionsTable): Promise<void> {
  await db.insertInto('sessions').values(session).execute();
}

export async function insertCredential(db: Executor, credential: Omit<CredentialRow, 'id'>): Promise<void> {
  await db.insertInto('session_credentials').values(credential).execute();
}

export function findCredentialByTokenDigest(db: Executor, tokenHash: string) {
  return db
    .selectFrom('session_credentials as c')
    .innerJoin('sessions as s', 's.id', 'c.session_id')
    .select(['c.session_id', 's.user_id', 'c.token_expires_at', 'c.replaced_at'])
    .where('c.token_hash', '=', tokenHash)
    .executeTakeFirst();
}

export function findCredentialByReflashDigest(db: Executor, reflashHash: string) {
  return db
    .selectFrom('session_credentials as c')
    .innerJoin('sessions as s', 's.id', 'c.session_id')
    .select(['c.id', 'c.session_id', 's.user_id', 'c.token_hash', 'c.reflash_expires_at', 'c.replaced_at'])
    .where('c.reflash_hash', '=', reflashHash)
    .executeTakeFirst();
}

/** Marks a credential replaced unless a concurrent refresh already did; true when this call did. */
export async function markCredentialReplaced(db: Executor, id: number, now: number): Promise<boolean> {
  const result = await db
    .updateTable('session_credentials')
    .set({ replaced_at: now })
    .where('id', '=', id)
    .where('replaced_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Replaced credentials are kept until their reflash_key would have expired, to detect reuse. */
export async function deleteExpiredCredentials(db: Executor, sessionId: string, now: number): Promise<void> {
  await db
    .deleteFrom('session_credentials')
    .where('session_id', '=', sessionId)
    .where('reflash_expires_at', '<=', now)
    .execute();
}

export async function touchSession(db: Executor, sessionId: string, now: number): Promise<void> {
  await db.updateTable('sessions').set({ refreshed_at: now }).where('id', '=', sessionId).execute();
}

export async function listSessionIdsOfUser(db: Executor, userId: number): Promise<string[]> {
  const rows = await db.selectFrom('sessions').select('id').where('user_id', '=', userId).execute();
  return rows.map((row) => row.id);
}

export async function deleteSessions(db: Executor, sessionIds: readonly string[]): Promise<void> {
  if (sessionIds.length === 0) return;
  await db.deleteFrom('session_credentials').where('session_id', 'in', sessionIds).execute();
  await db.deleteFrom('sessions').where('id', 'in', sessionIds).execute();
}

export async function findSessionCreatedAt(db: Executor, sessionId: string): Promise<number | undefined> {
  const row = await db
    .selectFrom('sessions')
    .select('created_at')
    .where('id', '=', sessionId)
    .executeTakeFirst();
  return row?.created_at;
}
