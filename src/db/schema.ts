import type { Generated } from 'kysely';

/** Times are Unix milliseconds in both dialects (INTEGER in SQLite, BIGINT in PostgreSQL). */
export interface UsersTable {
  id: Generated<number>;
  username: string;
  /** Lower-cased username: uniqueness and look-up ignore case. */
  username_key: string;
  email: string | null;
  phone: string | null;
  password_hash: string | null;
  created_at: number;
  updated_at: number;
}

export interface SessionsTable {
  id: string;
  user_id: number;
  created_at: number;
  refreshed_at: number;
  user_agent: string | null;
  ip: string | null;
}

/** One token + reflash_key pair of a session; a refresh replaces the current pair. */
export interface SessionCredentialsTable {
  id: Generated<number>;
  session_id: string;
  token_hash: string;
  reflash_hash: string;
  token_expires_at: number;
  reflash_expires_at: number;
  created_at: number;
  replaced_at: number | null;
}

export interface RegistrationsTable {
  seq: Generated<number>;
  user_id: number;
  session_id: string | null;
  channel: 'ring' | 'message';
  push_token: string;
  language: string;
  dev: number;
  bundleid: string;
  os: string;
  os_token: string;
  push_platform: string;
  phone_model: string;
  /** The routing decision (design.md, "Routing a registration to a provider"). */
  provider: string;
  provider_token: string | null;
  apns_environment: string | null;
  created_at: number;
  updated_at: number;
}

export interface ApiKeysTable {
  id: string;
  name: string;
  /** The first characters of the key, to recognise it in listings. */
  prefix: string;
  key_hash: string;
  /** Comma-separated: `admin`, `send`. */
  scopes: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface AppsTable {
  bundleid: string;
  name: string;
  default_language: string;
  mode: 'live' | 'inbox';
  /** JSON: non-secret provider settings (ids, URLs, channel ids, fingerprints). */
  settings: string;
  /** AES-256-GCM box of the JSON of provider secrets; null when there are none. */
  secrets: string | null;
  /** JSON: provider → {reason, at} for credentials the provider rejected. */
  flags: string;
  created_at: number;
  updated_at: number;
}

export interface NotificationsTable {
  id: string;
  kind: 'send' | 'cancel';
  channel: 'ring' | 'message';
  bundleid: string | null;
  /** JSON: title, body, localized, data, sound, badge. */
  content: string;
  collapse_id: string | null;
  ttl_seconds: number;
  expires_at: number;
  idempotency_key: string | null;
  parent_id: string | null;
  api_key_id: string | null;
  targets: number;
  created_at: number;
  cancelled_at: number | null;
}

export type DeliveryStatus =
  | 'queued'
  | 'sending'
  | 'sent'
  | 'retrying'
  | 'failed'
  | 'invalid_token'
  | 'expired'
  | 'no_route';

export interface DeliveriesTable {
  /** A lowercase UUID, also the `apns-id`: stable across retries. */
  id: string;
  notification_id: string;
  user_id: number;
  registration_seq: number | null;
  provider: string;
  token: string;
  environment: string | null;
  bundleid: string;
  language: string;
  status: DeliveryStatus;
  reason: string | null;
  attempts: number;
  /** 0 for rings, 1 for messages: rings are claimed first. */
  priority: number;
  due_at: number | null;
  provider_message_id: string | null;
  created_at: number;
  updated_at: number;
  sent_at: number | null;
}

export interface InboxTable {
  id: Generated<number>;
  bundleid: string;
  delivery_id: string;
  notification_id: string;
  provider: string;
  /** JSON of the exact provider request. */
  request: string;
  created_at: number;
}

export type IdentityProvider = 'weixin' | 'facebook' | 'apple' | 'google';

/** A third-party identity linked to a user: `(provider, subject)` is unique. */
export interface IdentitiesTable {
  id: Generated<number>;
  user_id: number;
  provider: IdentityProvider;
  /** WeChat: unionid, else `appid:openid`; Facebook: the app-scoped user id; Apple, Google: `sub`. */
  subject: string;
  display_name: string | null;
  /** AES-256-GCM box of the JSON of the tokens kept for revocation (Apple's refresh token); null when none. */
  credentials: string | null;
  created_at: number;
  updated_at: number;
}

/** The APNs JWT of a signing key (`team/key id/key fingerprint`), shared by every process. */
export interface ApnsJwtsTable {
  key: string;
  /** SHA-256 (hex) of the JWT: what a compare-and-set compares. */
  jwt_digest: string;
  /** AES-256-GCM box of the JWT. */
  sealed_jwt: string;
  /** Unix ms (the JWT's `iat` × 1000). */
  issued_at: number;
}

export interface Database {
  users: UsersTable;
  sessions: SessionsTable;
  session_credentials: SessionCredentialsTable;
  registrations: RegistrationsTable;
  api_keys: ApiKeysTable;
  apps: AppsTable;
  notifications: NotificationsTable;
  deliveries: DeliveriesTable;
  inbox: InboxTable;
  identities: IdentitiesTable;
  apns_jwts: ApnsJwtsTable;
}

/**
 * What repositories take as their first argument: the database or an open transaction
 * (Kysely's `Transaction` is a `Kysely`), chosen by the caller.
 */
export type Executor = import('kysely').Kysely<Database>;
