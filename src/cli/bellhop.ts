import { parseArgs } from 'node:util';
import { createApiKeys, type Scope, scopes } from '../admin/api-keys.js';
import { systemClock } from '../clock.js';
import { ConfigError, loadConfig } from '../config.js';
import { createDatabase } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';

const usage = `Usage: npm run bellhop -- <command>

  keys create --name <name> [--scope send|admin ...]   create an API key (printed once)
  keys list                                            list API keys (never the keys themselves)
  keys revoke <id>                                     revoke an API key
  migrate                                              apply pending database migrations

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
  const config = loadConfig(env);
  const database = createDatabase(config.database);
  try {
    await migrateToLatest(database.db, { schema: database.schema });
    if (group === 'migrate') return ['database is up to date'];
    if (group !== 'keys') throw new UsageError(`unknown command "${group}"\n\n${usage}`);
    const apiKeys = createApiKeys({ db: database.db, clock: systemClock });
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
      const keys = await apiKeys.list();
      if (keys.length === 0) return ['no API keys'];
      return keys.map(
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
  } finally {
    await database.close();
  }
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
