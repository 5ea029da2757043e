import { randomBytes } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import pg from 'pg';
import { pino } from 'pino';
import { inject } from 'vitest';
import { buildApp } from '../../src/app.js';
import { type Config, loadConfig } from '../../src/config.js';
import { createSecretBox, type SecretBox } from '../../src/crypto/secret-box.js';
import { createDatabase, type DatabaseHandle, type Dialect } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import type { ProviderCatalogue } from '../../src/delivery/providers/catalogue.js';
import type { DeliveryQueue } from '../../src/delivery/queue/queue.js';
import type { TypedApp } from '../../src/http/typed-app.js';
import { createLogger } from '../../src/logger.js';
import { createServices, type Services } from '../../src/services.js';
import { ManualClock } from './clock.js';

/** The databases to run every suite on (see global-setup.ts). */
export function testDialects(): Dialect[] {
  return inject('dialects');
}

/** Fast argon2 and generous limits; a test that needs other settings passes them. */
export const testEnvironment: Record<string, string> = {
  ARGON2_MEMORY_KIB: '64',
  ARGON2_ITERATIONS: '1',
  PASSWORD_HASH_CONCURRENCY: '4',
  RATE_LIMIT_AUTH_PER_IP: '100000',
  LOG_LEVEL: 'silent',
};

export interface TestDatabase {
  handle: DatabaseHandle;
  config: Config['database'];
  drop(): Promise<void>;
}

/** A migrated database of its own: in-memory SQLite, or a fresh PostgreSQL schema. */
export async function createTestDatabase(dialect: Dialect): Promise<TestDatabase> {
  if (dialect === 'sqlite') {
    const config = { dialect: 'sqlite', file: ':memory:' } as const;
    const handle = createDatabase(config);
    await migrateToLatest(handle.db);
    return { handle, config, drop: () => handle.close() };
  }
  const url = inject('postgresUrl');
  const schema = `bh_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const config = { dialect: 'postgres', url, poolSize: 4, schema } as const;
  const handle = createDatabase(config);
  await migrateToLatest(handle.db, { schema });
  return {
    handle,
    config,
    drop: async () => {
      await handle.close();
      const cleaner = new pg.Client({ connectionString: url });
      await cleaner.connect();
      await cleaner.query(`drop schema ${schema} cascade`);
      await cleaner.end();
    },
  };
}

export interface TestApp {
  app: TypedApp;
  clock: ManualClock;
  database: TestDatabase;
  services: Services;
  /** Stops and starts the delivery worker, as a worker process going away and coming back. */
  worker: {
    stop(): Promise<void>;
    start(): void;
    /**
     * Resolves once the worker's queue has looked for due work, after this call, and found
     * none with no batch in hand: what a test waits for before it asserts that nothing was sent.
     */
    considered(): Promise<void>;
  };
  close(): Promise<void>;
}

export interface TestAppOptions {
  catalogue?: ProviderCatalogue;
  /** Runs the delivery worker in the same process, as `npm start` does. */
  worker?: boolean;
  /** Log lines go here (at LOG_LEVEL) instead of nowhere. */
  logStream?: { write(line: string): void };
  clock?: ManualClock;
  /** The credentials box; processes sharing a database must share it. */
  box?: SecretBox;
}

/** Services over a given test database, as main.ts wires them. */
export function createTestServices(
  database: TestDatabase,
  environment: Record<string, string> = {},
  options: TestAppOptions = {},
): Services {
  const config = { ...loadConfig({ ...testEnvironment, ...environment }), database: database.config };
  return createServices(config, {
    database: database.handle,
    clock: options.clock ?? new ManualClock(),
    logger:
      options.logStream === undefined ? pino({ enabled: false }) : createLogger(config, options.logStream),
    box: options.box ?? createSecretBox(randomBytes(32)),
    ...(options.catalogue === undefined ? {} : { catalogue: options.catalogue }),
  });
}

export async function createTestApp(
  dialect: Dialect,
  environment: Record<string, string> = {},
  options: TestAppOptions = {},
): Promise<TestApp> {
  const database = await createTestDatabase(dialect);
  const clock = options.clock ?? new ManualClock();
  const services = createTestServices(database, environment, { ...options, clock });
  const app = await buildApp(services.config, services);
  await app.ready();
  const idle = watchIdle(services.queue);
  let stopWorker = options.worker === true ? services.startWorker() : undefined;
  return {
    app,
    clock,
    database,
    services,
    worker: {
      async stop() {
        await stopWorker?.();
        stopWorker = undefined;
      },
      start() {
        stopWorker ??= services.startWorker();
      },
      considered: () => idle.next(2),
    },
    close: async () => {
      await app.close();
      await services.stopChannel();
      await stopWorker?.();
      await database.drop();
    },
  };
}

/**
 * Counts the queue's idle signals (nothing due, nothing in hand) by wrapping the hooks the
 * worker starts it with. `next(n)` waits for the n-th signal from now: the second one comes
 * from a look at the table that began after the call.
 */
function watchIdle(queue: DeliveryQueue) {
  let signals = 0;
  const waiters = new Set<{ at: number; resolve: () => void }>();
  const start = queue.start.bind(queue);
  queue.start = (handler, hooks = {}) =>
    start(handler, {
      ...hooks,
      idle: () => {
        hooks.idle?.();
        signals += 1;
        for (const waiter of waiters) {
          if (signals < waiter.at) continue;
          waiters.delete(waiter);
          waiter.resolve();
        }
      },
    });
  return {
    next: (count: number) =>
      new Promise<void>((resolve) => {
        waiters.add({ at: signals + count, resolve });
      }),
  };
}

let userCounter = 0;

export function uniqueUsername(prefix = 'user'): string {
  userCounter += 1;
  return `${prefix}_${process.pid}_${userCounter}_${randomBytes(3).toString('hex')}`.slice(0, 32);
}

export interface LoginBody {
  id: number;
  token: string;
  reflash_key: string;
  time: number;
  expires_in: number;
  message: string;
}

export async function registerUser(
  app: TypedApp,
  fields: { username?: string; password?: string; email?: string; phone?: string } = {},
): Promise<LoginBody & { username: string; password: string }> {
  const username = fields.username ?? uniqueUsername();
  const password = fields.password ?? 'correct horse battery';
  const response = await app.inject({
    method: 'POST',
    url: '/v1/api/user',
    payload: { ...fields, username, password },
  });
  if (response.statusCode !== 201)
    throw new Error(`register failed: ${response.statusCode} ${response.body}`);
  return { ...(response.json() as LoginBody), username, password };
}

export function json<T = Record<string, unknown>>(response: LightMyRequestResponse): T {
  return response.json() as T;
}
