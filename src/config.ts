import { type Static, Type } from 'typebox';
import { Value } from 'typebox/value';
import { identityConfig } from './config/identity.js';

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
  REGISTRATION_REFRESH_SECONDS: Type.Integer({ minimum: 0, maximum: 86_400, default: 3600 }),
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
  DELIVERY_BATCH_LINGER_MS: Type.Integer({ minimum: 0, maximum: 5000, default: 500 }),
  ACCOUNT_DELETE_RECENT_LOGIN_SECONDS: Type.Integer({ minimum: 60, maximum: 30 * 24 * 3600, default: 600 }),
  LOGIN_PROVIDER_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 60_000, default: 5000 }),
  LOGIN_PROVIDER_CA_FILE: Type.Optional(Type.String({ minLength: 1 })),
  LOGIN_JWKS_CACHE_SECONDS: Type.Integer({ minimum: 60, maximum: 7 * 24 * 3600, default: 3600 }),
  LOGIN_JWKS_MIN_REFETCH_SECONDS: Type.Integer({ minimum: 0, maximum: 3600, default: 60 }),
  LOGIN_JWT_LEEWAY_SECONDS: Type.Integer({ minimum: 0, maximum: 600, default: 60 }),
  WEIXIN_APP_ID: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' })),
  WEIXIN_APP_SECRET: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  WEIXIN_API_URL: Type.String({ pattern: '^https?://', default: 'https://api.weixin.qq.com' }),
  WEIXIN_CODE_CACHE_SECONDS: Type.Integer({ minimum: 0, maximum: 3600, default: 300 }),
  FACEBOOK_APP_ID: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[0-9]+$' })),
  FACEBOOK_APP_SECRET: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  FACEBOOK_GRAPH_URL: Type.String({ pattern: '^https?://', default: 'https://graph.facebook.com' }),
  APPLE_AUDIENCES: Type.Optional(Type.String({ minLength: 1 })),
  APPLE_TEAM_ID: Type.Optional(Type.String({ pattern: '^[A-Z0-9]{10}$' })),
  APPLE_KEY_ID: Type.Optional(Type.String({ pattern: '^[A-Z0-9]{10}$' })),
  APPLE_PRIVATE_KEY: Type.Optional(Type.String({ minLength: 1 })),
  APPLE_PRIVATE_KEY_FILE: Type.Optional(Type.String({ minLength: 1 })),
  APPLE_JWKS_URL: Type.String({ pattern: '^https?://', default: 'https://appleid.apple.com/auth/keys' }),
  APPLE_TOKEN_URL: Type.String({ pattern: '^https?://', default: 'https://appleid.apple.com/auth/token' }),
  APPLE_REVOKE_URL: Type.String({ pattern: '^https?://', default: 'https://appleid.apple.com/auth/revoke' }),
  GOOGLE_CLIENT_IDS: Type.Optional(Type.String({ minLength: 1 })),
  GOOGLE_JWKS_URL: Type.String({
    pattern: '^https?://',
    default: 'https://www.googleapis.com/oauth2/v3/certs',
  }),
  CHANNEL_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 11001 }),
  CHANNEL_TLS_CERT: Type.Optional(Type.String({ minLength: 1 })),
  CHANNEL_TLS_KEY: Type.Optional(Type.String({ minLength: 1 })),
  CHANNEL_HEARTBEAT_MS: Type.Integer({ minimum: 100, maximum: 3600_000, default: 60_000 }),
  CHANNEL_IDLE_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 24 * 3600_000, default: 180_000 }),
  CHANNEL_REGISTER_TIMEOUT_MS: Type.Integer({ minimum: 50, maximum: 600_000, default: 10_000 }),
  CHANNEL_HANDSHAKE_TIMEOUT_MS: Type.Integer({ minimum: 50, maximum: 600_000, default: 10_000 }),
  CHANNEL_OFFLINE_RECHECK_MS: Type.Integer({ minimum: 100, maximum: 24 * 3600_000, default: 60_000 }),
  REDIS_URL: Type.Optional(Type.String({ pattern: '^rediss?://' })),
  REDIS_PREFIX: Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,64}$', default: 'bellhop' }),
  QUEUE_SWEEP_SECONDS: Type.Integer({ minimum: 1, maximum: 3600, default: 15 }),
});

export type Env = Static<typeof EnvSchema>;

/** Every variable Bellhop reads (.env.example lists them all). */
export const configVariables: readonly string[] = Object.keys(EnvSchema.properties);

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
  registry: { maxPerChannel: number; refreshSeconds: number };
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
    /** How long a message waits for others to fill a provider's batch call. */
    batchLingerMs: number;
    /**
     * A delivery waiting for its phone to connect to the push channel is looked at again
     * after this long at the latest (a reconnection makes it due at once).
     */
    unreachableRecheckMs: number;
  };
  /** How recent the session must be when a user without a password deletes the account. */
  accountDeleteRecentLoginSeconds: number;
  identity: IdentityConfig;
  /** Bellhop's own push channel (src/channel/). */
  channel: ChannelConfig;
  /** Scale-out mode: the queue, rate limits, session revocations and provider tokens in Redis. */
  redis: { url: string; prefix: string; sweepSeconds: number } | undefined;
}

export interface ChannelConfig {
  /** The TLS socket's port; 0 = no socket (the WebSocket form stays). */
  port: number;
  /** PEM text or a file path each; absent = a self-signed pair kept in the data directory. */
  tlsCert: string | undefined;
  tlsKey: string | undefined;
  /** How often the server sends a heartbeat to a connection. */
  heartbeatMs: number;
  /** A connection not heard from for this long is closed. */
  idleTimeoutMs: number;
  /** A connection that has not registered after this long is closed. */
  registerTimeoutMs: number;
  /** A TLS handshake not finished after this long is abandoned. */
  handshakeTimeoutMs: number;
}

/** Third-party login: one block per provider, absent when that provider is not configured. */
export interface IdentityConfig {
  /** For every call to a provider: connecting, sending and reading the answer. */
  timeoutMs: number;
  /** Extra trusted CA certificates (PEM) for provider endpoints: proxies, local fakes. */
  ca: string | undefined;
  jwksCacheSeconds: number;
  /** An unknown `kid` refetches a key set at most this often. */
  jwksMinRefetchSeconds: number;
  /** Allowed clock skew on `exp`, `iat` and `nbf`. */
  leewaySeconds: number;
  weixin: { appId: string; appSecret: string; apiUrl: string; codeCacheSeconds: number } | undefined;
  facebook: { appId: string; appSecret: string; graphUrl: string } | undefined;
  apple:
    | {
        /** Bundle ids (native iOS) and Services IDs (web, Android) the identity token may be for. */
        audiences: string[];
        jwksUrl: string;
        tokenUrl: string;
        revokeUrl: string;
        /** The Sign in with Apple key: without it codes are not exchanged and nothing can be revoked. */
        signing: { teamId: string; keyId: string; privateKey: string } | undefined;
      }
    | undefined;
  google: { clientIds: string[]; jwksUrl: string } | undefined;
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
  // Every problem is named at once: the schema's, then those between settings.
  const invalid = new Map<string, string>();
  for (const error of Value.Errors(EnvSchema, candidate)) {
    const key = error.instancePath.replace(/^\//, '') || 'environment';
    if (!invalid.has(key)) invalid.set(key, `${key}: ${error.message} (got ${JSON.stringify(raw[key])})`);
  }
  const problems = [...invalid.values()];
  const env = candidate as Env;
  if ((env.CHANNEL_TLS_CERT === undefined) !== (env.CHANNEL_TLS_KEY === undefined))
    problems.push('CHANNEL_TLS_CERT and CHANNEL_TLS_KEY go together: set both or neither');
  const timings = ['CHANNEL_IDLE_TIMEOUT_MS', 'CHANNEL_HEARTBEAT_MS'];
  if (!timings.some((key) => invalid.has(key)) && env.CHANNEL_IDLE_TIMEOUT_MS <= env.CHANNEL_HEARTBEAT_MS)
    problems.push(
      'CHANNEL_IDLE_TIMEOUT_MS must be longer than CHANNEL_HEARTBEAT_MS (clients answer each heartbeat)',
    );
  const identity = identityConfig(env, problems);
  if (problems.length > 0) throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
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
    registry: {
      maxPerChannel: env.MAX_REGISTRATIONS_PER_CHANNEL,
      refreshSeconds: env.REGISTRATION_REFRESH_SECONDS,
    },
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
      batchLingerMs: env.DELIVERY_BATCH_LINGER_MS,
      unreachableRecheckMs: env.CHANNEL_OFFLINE_RECHECK_MS,
    },
    channel: {
      port: env.CHANNEL_PORT,
      tlsCert: env.CHANNEL_TLS_CERT,
      tlsKey: env.CHANNEL_TLS_KEY,
      heartbeatMs: env.CHANNEL_HEARTBEAT_MS,
      idleTimeoutMs: env.CHANNEL_IDLE_TIMEOUT_MS,
      registerTimeoutMs: env.CHANNEL_REGISTER_TIMEOUT_MS,
      handshakeTimeoutMs: env.CHANNEL_HANDSHAKE_TIMEOUT_MS,
    },
    accountDeleteRecentLoginSeconds: env.ACCOUNT_DELETE_RECENT_LOGIN_SECONDS,
    identity,
    redis:
      env.REDIS_URL === undefined
        ? undefined
        : { url: env.REDIS_URL, prefix: env.REDIS_PREFIX, sweepSeconds: env.QUEUE_SWEEP_SECONDS },
  });
}
