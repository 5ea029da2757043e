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

export interface Database {
  users: UsersTable;
  sessions: SessionsTable;
  session_credentials: SessionCredentialsTable;
  registrations: RegistrationsTable;
}

/**
 * What repositories take as their first argument: the database or an open transaction
 * (Kysely's `Transaction` is a `Kysely`), chosen by the caller.
 */
export type Executor = import('kysely').Kysely<Database>;
