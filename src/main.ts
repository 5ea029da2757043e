import closeWithGrace from 'close-with-grace';
import { buildApp } from './app.js';
import { loadChannelTls } from './channel/certificate.js';
import { type ChannelServer, startChannelServer } from './channel/server.js';
import { systemClock } from './clock.js';
import { ConfigError, loadConfig } from './config.js';
import { createSecretBox, loadMasterKey, MasterKeyError } from './crypto/secret-box.js';
import { createDatabase } from './db/database.js';
import { migrateToLatest } from './db/migrate.js';
import { createLogger } from './logger.js';
import { createServices } from './services.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config);
  const database = createDatabase(config.database, {
    onConnectionError: (error) =>
      logger.warn({ err: error }, 'database connection lost; the pool reconnects'),
  });
  await migrateToLatest(database.db, { schema: database.schema });
  const masterKey = loadMasterKey({
    configured: config.masterKey,
    dataDir: config.dataDir,
    embedded: config.database.dialect === 'sqlite',
    warn: (message) => logger.warn(message),
  });
  // Loaded only in scale-out mode: the embedded default never pays for Redis and BullMQ.
  const redis =
    config.redis === undefined
      ? undefined
      : (await import('./redis/redis.js')).createRedis(
          config.redis.url,
          config.redis.prefix,
          (error, connection) =>
            logger.warn({ err: error, connection }, 'Redis connection lost; reconnecting'),
        );
  const scaleOut =
    redis === undefined
      ? undefined
      : (await import('./scale-out.js')).createScaleOut(redis, {
          config,
          db: database.db,
          clock: systemClock,
          logger,
        });
  if (redis !== undefined && !(await redis.connected(10_000)))
    logger.warn('Redis does not answer yet: starting anyway; /readyz reports it until it does');
  const services = createServices(config, {
    database,
    logger,
    box: createSecretBox(masterKey),
    ...(redis === undefined || scaleOut === undefined ? {} : { redis, scaleOut }),
  });

  const bootstrapKey = await services.apiKeys.bootstrap(config.bootstrapAdminKey);
  if (bootstrapKey !== undefined && config.bootstrapAdminKey === undefined) {
    process.stdout.write(
      `\nCreated the first admin API key (shown only this once; store it now):\n\n  ${bootstrapKey.key}\n\n` +
        'Use it as "Authorization: Bearer <key>" for /v1/admin and /v1/push; manage keys with "npm run bellhop -- keys".\n\n',
    );
  }
  if (await services.apps.ensureDefault(config.defaultBundleId)) {
    logger.info({ bundleid: config.defaultBundleId }, 'created the default app in inbox mode');
  }

  const stopWorker = config.role === 'api' ? undefined : services.startWorker();
  const app = config.role === 'worker' ? undefined : await buildApp(config, services);
  // The push socket lives with the HTTP API (as its WebSocket form does): a worker process of
  // its own reaches those phones only through a shared ChannelBus (src/channel/bus.ts).
  let channelServer: ChannelServer | undefined;
  if (app !== undefined && config.channel.port !== 0) {
    channelServer = await startChannelServer(services.channel, {
      port: config.channel.port,
      host: config.host,
      tls: loadChannelTls({
        cert: config.channel.tlsCert,
        key: config.channel.tlsKey,
        dataDir: config.dataDir,
        commonName: config.publicUrl === undefined ? 'localhost' : new URL(config.publicUrl).hostname,
        warn: (message) => logger.warn(message),
      }),
      handshakeTimeoutMs: config.channel.handshakeTimeoutMs,
      onError: (error) => logger.error({ err: error }, 'push channel server error'),
    });
    logger.info({ port: channelServer.port }, 'push channel listening');
  }

  closeWithGrace({ delay: config.shutdownGraceMs }, async ({ signal, err }) => {
    if (err !== undefined) logger.error({ err }, 'stopping after an error');
    else logger.info({ signal }, 'stopping');
    await channelServer?.close();
    await app?.close();
    await services.stopChannel();
    await stopWorker?.();
    await redis?.close();
    await database.close();
  });

  if (app === undefined) {
    logger.info({ role: config.role }, 'delivery worker running');
    process.stdout.write(
      `\nBellhop delivery worker running (${config.database.dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL'}${config.redis === undefined ? '' : ' + Redis'})\n\n`,
    );
    return;
  }
  const address = await app.listen({ port: config.port, host: config.host });
  const where = config.database.dialect === 'sqlite' ? `SQLite ${config.database.file}` : 'PostgreSQL';
  const shown = config.publicUrl ?? address.replace('0.0.0.0', 'localhost');
  logger.info({ address, database: config.database.dialect, role: config.role }, 'listening');
  const channel =
    channelServer === undefined
      ? ''
      : `  Push channel: TLS port ${channelServer.port}, WebSocket ${shown}/v1/channel\n`;
  process.stdout.write(
    `\nBellhop is serving on ${shown} (${where})\n  API docs: ${shown}/docs\n${channel}\n`,
  );
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof MasterKeyError)
    process.stderr.write(`${error.message}\n`);
  else
    process.stderr.write(
      `Bellhop could not start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
  process.exit(1);
});
