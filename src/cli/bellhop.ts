import { parseArgs } from 'node:util';
import { type ApiKeys, createApiKeys, type Scope, scopes } from '../admin/api-keys.js';
import { systemClock } from '../clock.js';
import { ConfigError, loadConfig } from '../config.js';
import { createDatabase, type DatabaseHandle } from '../db/database.js';
import { migrateToLatest, pendingMigrations } from '../db/migrate.js';

const usage = `Usage: npm run bellhop -- <command>

  migrate                                              apply pending database migrations (npm run migrate)
  keys create --name <name> [--scope send|admin ...]   create an API key (printed once)
  keys list                                            list API keys (never the keys themselves)
  keys revoke <id>                                     revoke an API key

The database is the one the server uses (DATABASE_URL / DATA_DIR).`;

export class UsageError extends Error {
  override name = 'UsageError';
}

/** Runs one command; the output lines are returned so that tests can read them. */
export async function runCli(
  argv: readonly string[],
  env: Record<string, string | undefined> = process.env,
): Promise<string[]> {
  const [group, action, ...rest] = argv;
  if (group === undefined || group === 'help' || group === '--help') return [usage];
  if (group !== 'migrate' && group !== 'keys') throw new UsageError(`unknown command "${group}"\n\n${usage}`);
  const config = loadConfig(env);
  const database = createDatabase(config.database);
  try {
    if (group === 'migrate') return await migrate(database);
    // Only `migrate` changes the schema: a key command on a database that is behind says so.
    const pending = await pendingMigrations(database.db, { schema: database.schema });
    if (pending.length > 0)
      throw new UsageError(
        `the database lacks ${pending.length} migration(s) (${pending.join(', ')}): run "npm run migrate" first`,
      );
    return await keys(createApiKeys({ db: database.db, clock: systemClock }), action, rest);
  } finally {
    await database.close();
  }
}

async function migrate(database: DatabaseHandle): Promise<string[]> {
  const result = await migrateToLatest(database.db, { schema: database.schema });
  const applied = result.results?.filter((entry) => entry.status === 'Success') ?? [];
  if (applied.length === 0) return ['database is up to date'];
  return [
    ...applied.map((entry) => `applied ${entry.migrationName}`),
    `${applied.length} migration(s) applied`,
  ];
}

async function keys(apiKeys: ApiKeys, action: string | undefined, rest: string[]): Promise<string[]> {
  if (action === 'create') {
    const { values } = parseArgs({
      args: rest,
      options: { name: { type: 'string' }, scope: { type: 'string', multiple: true } },
    });
    if (values.name === undefined || values.name.trim() === '')
      throw new UsageError('keys create needs --name');
    const granted = (values.scope ?? ['send']).flatMap((scope) => scope.split(','));
    const unknown = granted.filter((scope) => !(scopes as readonly string[]).includes(scope));
    if (unknown.length > 0)
      throw new UsageError(`unknown scope ${unknown.join(', ')}; use ${scopes.join(' or ')}`);
    const created = await apiKeys.create(values.name.trim(), granted as Scope[]);
    return [
      `created ${created.id} (${created.scopes.join(',')}): ${created.key}`,
      'store the key now: it is not shown again',
    ];
  }
  if (action === 'list') {
    const list = await apiKeys.list();
    if (list.length === 0) return ['no API keys'];
    return list.map(
      (key) =>
        `${key.id}  ${key.prefix}…  ${key.scopes.join(',').padEnd(10)}  ${key.revoked_at === null ? 'active ' : 'revoked'}  ${new Date(key.created_at).toISOString()}  ${key.name}`,
    );
  }
  if (action === 'revoke') {
    const id = rest[0];
    if (id === undefined) throw new UsageError('keys revoke needs the key id (see keys list)');
    if (!(await apiKeys.revoke(id))) throw new UsageError(`no active key ${id}`);
    return [`revoked ${id}`];
  }
  throw new UsageError(`unknown keys command "${action ?? ''}"\n\n${usage}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runCli(process.argv.slice(2)).then(
    (lines) => process.stdout.write(`${lines.join('\n')}\n`),
    (error: unknown) => {
      const known = error instanceof UsageError || error instanceof ConfigError;
      process.stderr.write(
        `${known ? (error as Error).message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exitCode = 1;
    },
  );
}
