import closeWithGrace from 'close-with-grace';
import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { createDatabase } from './db/database.js';
import { migrateToLatest } from './db/migrate.js';

async function main(): Promise<void> {
  const config = loadConfig();
  let onConnectionError = (error: Error): void => {
    process.stderr.write(`database connection lost: ${error.message}\n`);
  };
  const database = createDatabase(config.database, {
    onConnectionError: (error) => onConnectionError(error),
  });
  await migrateToLatest(database.db, { schema: database.schema });
  const app = await buildApp(config, { database });
  onConnectionError = (error) =>
    app.log.warn({ err: error }, 'database connection lost; the pool reconnects');
  app.addHook('onClose', async () => {
    await database.close();
  });

  closeWithGrace({ delay: config.shutdownGraceMs }, async ({ signal, err }) => {
    if (err !== undefined) app.log.error({ err }, 'stopping after an error');
    else app.log.info({ signal }, 'stopping');
    await app.close();
  });

  const address = await app.listen({ port: config.port, host: config.host });
  const where = config.database.dialect === 'sqlite' ? `SQLite ${config.database.file}` : 'PostgreSQL';
  const shown = config.publicUrl ?? address.replace('0.0.0.0', 'localhost');
  app.log.info({ address, database: config.database.dialect }, 'listening');
  process.stdout.write(`\nBellhop is serving on ${shown} (${where})\n  API docs: ${shown}/docs\n\n`);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) process.stderr.write(`${error.message}\n`);
  else
    process.stderr.write(
      `Bellhop could not start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
  process.exit(1);
});
