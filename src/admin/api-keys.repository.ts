import type { ApiKeysTable, Executor } from '../db/schema.js';

export async function insertApiKey(db: Executor, row: ApiKeysTable): Promise<void> {
  await db.insertInto('api_keys').values(row).execute();
}

/** Stores the key unless one with the same digest exists; true when this call stored it. */
export async function insertApiKeyOnce(db: Executor, row: ApiKeysTable): Promise<boolean> {
  const stored = await db
    .insertInto('api_keys')
    .values(row)
    .onConflict((conflict) => conflict.column('key_hash').doNothing())
    .returning('id')
    .executeTakeFirst();
  return stored !== undefined;
}

export function listApiKeys(db: Executor): Promise<ApiKeysTable[]> {
  return db.selectFrom('api_keys').selectAll().orderBy('created_at').execute();
}

export async function anyApiKey(db: Executor): Promise<boolean> {
  return (await db.selectFrom('api_keys').select('id').limit(1).executeTakeFirst()) !== undefined;
}

export function findApiKeyByDigest(db: Executor, digest: string): Promise<ApiKeysTable | undefined> {
  return db.selectFrom('api_keys').selectAll().where('key_hash', '=', digest).executeTakeFirst();
}

/** False when the key does not exist or was revoked already. */
export async function revokeApiKey(db: Executor, id: string, at: number): Promise<boolean> {
  const result = await db
    .updateTable('api_keys')
    .set({ revoked_at: at })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}
