import { ConfigError, loadConfig } from '../config.js';
import { createDatabase } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';

const config = loadConfig();
const database = createDatabase(config.database);
try {
  const result = await migrateToLatest(database.db, { schema: database.schema });
  const applied = result.results?.filter((entry) => entry.status === 'Success') ?? [];
  for (const entry of applied) process.stdout.write(`applied ${entry.migrationName}\n`);
  process.stdout.write(
    applied.length === 0 ? 'database is up to date\n' : `${applied.length} migration(s) applied\n`,
  );
} catch (error) {
  process.stderr.write(
    `${error instanceof ConfigError || error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exitCode = 1;
} finally {
  await database.close();
}
