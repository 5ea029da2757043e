import { type Static, Type } from 'typebox';
import { Value } from 'typebox/value';

/**
 * The environment, as the one typed and frozen configuration of the process.
 * Nothing else in the code reads `process.env`.
 */
const EnvSchema = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
  HOST: Type.String({ minLength: 1, default: '0.0.0.0' }),
  PUBLIC_URL: Type.Optional(Type.String({ pattern: '^https?://' })),
  DATA_DIR: Type.String({ minLength: 1, default: './data' }),
  DEFAULT_BUNDLEID: Type.String({
    minLength: 1,
    maxLength: 155,
    pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$',
    default: 'com.example.bellhop',
  }),
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^(postgres(ql)?://|sqlite:|file:)' })),
  DATABASE_POOL_SIZE: Type.Integer({ minimum: 1, maximum: 200, default: 10 }),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((level) => Type.Literal(level)),
    { default: 'info' },
  ),
  TOKEN_TTL_SECONDS: Type.Integer({ minimum: 60, default: 30 * 24 * 3600 }),
  REFLASH_TTL_SECONDS: Type.Integer({ minimum: 60, default: 180 * 24 * 3600 }),
  REFLASH_GRACE_SECONDS: Type.Integer({ minimum: 0, maximum: 300, default: 10 }),
  SESSION_POLICY: Type.Union([Type.Literal('multi'), Type.Literal('single')], { default: 'multi' }),
  AUTH_CACHE_TTL_SECONDS: Type.Integer({ minimum: 0, default: 300 }),
  AUTH_CACHE_MAX_ENTRIES: Type.Integer({ minimum: 0, default: 100_000 }),
  ARGON2_MEMORY_KIB: Type.Integer({ minimum: 8, default: 19_456 }),
  ARGON2_ITERATIONS: Type.Integer({ minimum: 1, default: 2 }),
  PASSWORD_HASH_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 64, default: 1 }),
  MAX_REGISTRATIONS_PER_CHANNEL: Type.Integer({ minimum: 1, maximum: 10_000, default: 100 }),
  RATE_LIMIT_AUTH_PER_IP: Type.Integer({ minimum: 1, default: 60 }),
  RATE_LIMIT_AUTH_WINDOW_SECONDS: Type.Integer({ minimum: 1, default: 60 }),
  RATE_LIMIT_FAILURES_PER_ACCOUNT_IP: Type.Integer({ minimum: 1, default: 10 }),
  RATE_LIMIT_FAILURES_PER_ACCOUNT: Type.Integer({ minimum: 1, default: 50 }),
  RATE_LIMIT_FAILURE_WINDOW_SECONDS: Type.Integer({ minimum: 1, default: 3600 }),
  RATE_LIMIT_BLOCK_SECONDS: Type.Integer({ minimum: 1, maximum: 3600, default: 900 }),
  TRUST_PROXY: Type.Boolean({ default: false }),
  LOG_REQUESTS: Type.Boolean({ default: true }),
  BODY_LIMIT_BYTES: Type.Integer({ minimum: 1024, maximum: 10 * 1024 * 1024, default: 64 * 1024 }),
  SHUTDOWN_GRACE_MS: Type.Integer({ minimum: 0, default: 10_000 }),
  BELLHOP_MASTER_KEY: Type.Optional(Type.String({ minLength: 1 })),
  BELLHOP_ADMIN_KEY: Type.Optional(Type.String({ minLength: 32, maxLength: 256 })),
  ROLE: Type.Union([Type.Literal('all'), Type.Literal('api'), Type.Literal('worker')], { default: 'all' }),
  PUSH_BODY_LIMIT_BYTES: Type.Integer({ minimum: 1024, maximum: 64 * 1024 * 1024, default: 8 * 1024 * 1024 }),
  RING_TTL_SECONDS: Type.Integer({ minimum: 1, maximum: 3600, default: 30 }),
  MESSAGE_TTL_SECONDS: Type.Integer({ minimum: 1, maximum: 28 * 24 * 3600, default: 24 * 3600 }),
  DELIVERY_MAX_ATTEMPTS: Type.Integer({ minimum: 1, maximum: 100, default: 8 }),
  DELIVERY_RETENTION_DAYS: Type.Integer({ minimum: 1, maximum: 3650, default: 7 }),
  WORKER_BATCH_SIZE: Type.Integer({ minimum: 1, maximum: 5000, default: 500 }),
  WORKER_POLL_MS: Type.Integer({ minimum: 10, maximum: 60_000, default: 1000 }),
  WORKER_LEASE_SECONDS: Type.Integer({ minimum: 5, maximum: 3600, default: 60 }),
  REDIS_URL: Type.Optional(Type.String({ pattern: '^rediss?://' })),
  REDIS_PREFIX: Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,64}$', default: 'bellhop' }),
  QUEUE_SWEEP_SECONDS: Type.Integer({ minimum: 1, maximum: 3600, default: 15 }),
});

type Env = Static<typeof EnvSchema>;

export type DatabaseConfig =
  | { dialect: 'sqlite'; file: string }
  | { dialect: 'postgres'; url: string; poolSize: number; schema?: string };

export interface Config {
  port: number;
  host: string;
  publicUrl: string | undefined;
  dataDir: string;
  /** The app a registration without `bundleid` belongs to. */
  defaultBundleId: string;
  database: DatabaseConfig;
  logLevel: Env['LOG_LEVEL'];
  sessions: {
    tokenTtlSeconds: number;
    reflashTtlSeconds: number;
    reflashGraceSeconds: number;
    policy: 'multi' | 'single';
    cacheTtlSeconds: number;
    cacheMaxEntries: number;
  };
  passwords: { memoryKib: number; iterations: number; concurrency: number };
  registry: { maxPerChannel: number };
  rateLimits: {
    authPerIp: number;
    authWindowSeconds: number;
    failuresPerAccountAndIp: number;
    failuresPerAccount: number;
    failureWindowSeconds: number;
    blockSeconds: number;
  };
  trustProxy: boolean;
  /** One info line per HTTP request (method, route pattern, status, time). */
  logRequests: boolean;
  bodyLimitBytes: number;
  shutdownGraceMs: number;
  /** What this process runs: the HTTP API, the delivery worker, or both. */
  role: 'all' | 'api' | 'worker';
  masterKey: string | undefined;
  bootstrapAdminKey: string | undefined;
  delivery: {
    pushBodyLimitBytes: number;
    ringTtlSeconds: number;
    messageTtlSeconds: number;
    maxAttempts: number;
    retentionDays: number;
    batchSize: number;
    pollMs: number;
    leaseSeconds: number;
  };
  /** Scale-out mode: the queue, rate limits, session revocations and provider tokens in Redis. */
  redis: { url: string; prefix: string; sweepSeconds: number } | undefined;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const booleanWords: Record<string, boolean> = {
  true: true,
  '1': true,
  yes: true,
  false: false,
  '0': false,
  no: false,
};

/** Turns the raw strings of the environment into the types the schema asks for. */
function coerce(raw: Record<string, string | undefined>): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(EnvSchema.properties)) {
    const value = raw[key];
    if (value === undefined || value === '') continue;
    const type = (schema as { type?: string }).type;
    if (type === 'integer') result[key] = /^-?\d+$/.test(value.trim()) ? Number(value) : value;
    else if (type === 'boolean') result[key] = booleanWords[value.trim().toLowerCase()] ?? value;
    else result[key] = value;
  }
  return result;
}

function databaseConfig(env: Env): DatabaseConfig {
  const url = env.DATABASE_URL;
  if (url === undefined) return { dialect: 'sqlite', file: `${env.DATA_DIR.replace(/\/+$/, '')}/bellhop.db` };
  if (url.startsWith('postgres')) return { dialect: 'postgres', url, poolSize: env.DATABASE_POOL_SIZE };
  return { dialect: 'sqlite', file: url.replace(/^(sqlite|file):(\/\/)?/, '') };
}

export function loadConfig(raw: Record<string, string | undefined> = process.env): Config {
  const candidate = Value.Default(EnvSchema, coerce(raw));
  if (!Value.Check(EnvSchema, candidate)) {
    const problems = new Map<string, string>();
    for (const error of Value.Errors(EnvSchema, candidate)) {
      const key = error.instancePath.replace(/^\//, '') || 'environment';
      if (!problems.has(key)) problems.set(key, `${key}: ${error.message} (got ${JSON.stringify(raw[key])})`);
    }
    throw new ConfigError(`Invalid configuration:\n  ${[...problems.values()].join('\n  ')}`);
  }
  const env = candidate;
  return Object.freeze({
    port: env.PORT,
    host: env.HOST,
    publicUrl: env.PUBLIC_URL,
    dataDir: env.DATA_DIR,
    defaultBundleId: env.DEFAULT_BUNDLEID,
    database: databaseConfig(env),
    logLevel: env.LOG_LEVEL,
    sessions: {
      tokenTtlSeconds: env.TOKEN_TTL_SECONDS,
      reflashTtlSeconds: env.REFLASH_TTL_SECONDS,
      reflashGraceSeconds: env.REFLASH_GRACE_SECONDS,
      policy: env.SESSION_POLICY,
      cacheTtlSeconds: env.AUTH_CACHE_TTL_SECONDS,
      cacheMaxEntries: env.AUTH_CACHE_MAX_ENTRIES,
    },
    passwords: {
      memoryKib: env.ARGON2_MEMORY_KIB,
      iterations: env.ARGON2_ITERATIONS,
      concurrency: env.PASSWORD_HASH_CONCURRENCY,
    },
    registry: { maxPerChannel: env.MAX_REGISTRATIONS_PER_CHANNEL },
    rateLimits: {
      authPerIp: env.RATE_LIMIT_AUTH_PER_IP,
      authWindowSeconds: env.RATE_LIMIT_AUTH_WINDOW_SECONDS,
      failuresPerAccountAndIp: env.RATE_LIMIT_FAILURES_PER_ACCOUNT_IP,
      failuresPerAccount: env.RATE_LIMIT_FAILURES_PER_ACCOUNT,
      failureWindowSeconds: env.RATE_LIMIT_FAILURE_WINDOW_SECONDS,
      blockSeconds: env.RATE_LIMIT_BLOCK_SECONDS,
    },
    trustProxy: env.TRUST_PROXY,
    logRequests: env.LOG_REQUESTS,
    bodyLimitBytes: env.BODY_LIMIT_BYTES,
    shutdownGraceMs: env.SHUTDOWN_GRACE_MS,
    role: env.ROLE,
    masterKey: env.BELLHOP_MASTER_KEY,
    bootstrapAdminKey: env.BELLHOP_ADMIN_KEY,
    delivery: {
      pushBodyLimitBytes: env.PUSH_BODY_LIMIT_BYTES,
      ringTtlSeconds: env.RING_TTL_SECONDS,
      messageTtlSeconds: env.MESSAGE_TTL_SECONDS,
      maxAttempts: env.DELIVERY_MAX_ATTEMPTS,
      retentionDays: env.DELIVERY_RETENTION_DAYS,
      batchSize: env.WORKER_BATCH_SIZE,
      pollMs: env.WORKER_POLL_MS,
      leaseSeconds: env.WORKER_LEASE_SECONDS,
    },
    redis:
      env.REDIS_URL === undefined
        ? undefined
        : { url: env.REDIS_URL, prefix: env.REDIS_PREFIX, sweepSeconds: env.QUEUE_SWEEP_SECONDS },
  });
}
