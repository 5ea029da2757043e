import type { AppsTable, Executor } from '../db/schema.js';

export function findApp(db: Executor, bundleid: string): Promise<AppsTable | undefined> {
  return db.selectFrom('apps').selectAll().where('bundleid', '=', bundleid).executeTakeFirst();
}

export async function appExists(db: Executor, bundleid: string): Promise<boolean> {
  const row = await db
    .selectFrom('apps')
    .select('bundleid')
    .where('bundleid', '=', bundleid)
    .executeTakeFirst();
  return row !== undefined;
}

export function listApps(db: Executor): Promise<AppsTable[]> {
  return db.selectFrom('apps').selectAll().orderBy('bundleid').execute();
}

export async function insertApp(db: Executor, row: AppsTable): Promise<void> {
  await db.insertInto('apps').values(row).execute();
}

export async function updateApp(db: Executor, row: AppsTable): Promise<void> {
  await db.updateTable('apps').set(row).where('bundleid', '=', row.bundleid).execute();
}

/** False when there was no such app. */
export async function deleteApp(db: Executor, bundleid: string): Promise<boolean> {
  const result = await db.deleteFrom('apps').where('bundleid', '=', bundleid).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/** The app's provider flags as stored (JSON), or undefined when there is no such app. */
export async function findFlags(db: Executor, bundleid: string): Promise<string | undefined> {
  const row = await db.selectFrom('apps').select('flags').where('bundleid', '=', bundleid).executeTakeFirst();
  return row?.flags;
}

export async function updateFlags(db: Executor, bundleid: string, flags: string): Promise<void> {
  await db.updateTable('apps').set({ flags }).where('bundleid', '=', bundleid).execute();
}
