import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import { digestSecret, newOpaqueSecret } from '../crypto/secrets.js';
import type { Executor } from '../db/schema.js';
import { AppError } from '../errors.js';
import type { AuthenticatedSession } from '../http/auth.js';
import { deleteRegistrationsOfSessions } from '../registry/registry.repository.js';
import type { SessionCache } from './session-cache.js';
import {
  deleteExpiredCredentials,
  deleteSessions,
  findCredentialByReflashDigest,
  findCredentialByTokenDigest,
  insertCredential,
  insertSession,
  listSessionIdsOfUser,
  markCredentialReplaced,
  touchSession,
} from './sessions.repository.js';

/** The login body of the manual, plus `expires_in`. */
export interface LoginResult {
  id: number;
  token: string;
  reflash_key: string;
  /** Unix seconds at which `token` expires. */
  time: number;
  expires_in: number;
}

export interface ClientInfo {
  ip: string;
  userAgent: string | undefined;
}

/** What the session operations share: the store, the clock, the cache and the lifetimes. */
export interface SessionContext {
  db: Executor;
  clock: Clock;
  cache: SessionCache;
  policy: Config['sessions']['policy'];
  tokenTtlMs: number;
  reflashTtlMs: number;
  graceMs: number;
}

export function sessionContext(deps: {
  db: Executor;
  clock: Clock;
  cache: SessionCache;
  sessions: Config['sessions'];
}): SessionContext {
  return {
    db: deps.db,
    clock: deps.clock,
    cache: deps.cache,
    policy: deps.sessions.policy,
    tokenTtlMs: deps.sessions.tokenTtlSeconds * 1000,
    reflashTtlMs: deps.sessions.reflashTtlSeconds * 1000,
    graceMs: deps.sessions.reflashGraceSeconds * 1000,
  };
}

/** Adds a token + reflash_key pair to a session and returns the login body. */
async function issueCredential(
  ctx: SessionContext,
  trx: Executor,
  userId: number,
  sessionId: string,
): Promise<LoginResult> {
  const now = ctx.clock.now();
  const token = newOpaqueSecret();
  const reflashKey = newOpaqueSecret();
  const tokenExpiresAt = now + ctx.tokenTtlMs;
  await insertCredential(trx, {
    session_id: sessionId,
    token_hash: digestSecret(token),
    reflash_hash: digestSecret(reflashKey),
    token_expires_at: tokenExpiresAt,
    reflash_expires_at: now + ctx.reflashTtlMs,
    created_at: now,
    replaced_at: null,
  });
  return {
    id: userId,
    token,
    reflash_key: reflashKey,
    time: Math.floor(tokenExpiresAt / 1000),
    expires_in: Math.floor(ctx.tokenTtlMs / 1000),
  };
}

/** Ends sessions and removes the push registrations made under them. */
export async function endSessions(trx: Executor, sessionIds: readonly string[]): Promise<void> {
  await deleteRegistrationsOfSessions(trx, sessionIds);
  await deleteSessions(trx, sessionIds);
}

/** Starts a session inside the caller's transaction; the single-session policy ends the others. */
export async function startSession(
  ctx: SessionContext,
  trx: Executor,
  userId: number,
  client: ClientInfo,
): Promise<LoginResult> {
  const now = ctx.clock.now();
  const sessionId = randomUUID();
  let ended: string[] = [];
  if (ctx.policy === 'single') {
    ended = await listSessionIdsOfUser(trx, userId);
    await endSessions(trx, ended);
  }
  await insertSession(trx, {
    id: sessionId,
    user_id: userId,
    created_at: now,
    refreshed_at: now,
    user_agent: client.userAgent?.slice(0, 256) ?? null,
    ip: client.ip,
  });
  const result = await issueCredential(ctx, trx, userId, sessionId);
  ctx.cache.forgetSessions(ended);
  return result;
}

/**
 * Trades a reflash_key for a new pair. The key just replaced stays usable for the grace
 * period (a retry after a lost response must not log the phone out); any other reuse
 * means the key leaked, and the whole session ends.
 */
export async function refreshSession(ctx: SessionContext, reflashKey: string): Promise<LoginResult> {
  const digest = digestSecret(reflashKey);
  const outcome = await ctx.db.transaction().execute(async (trx) => {
    const now = ctx.clock.now();
    const credential = await findCredentialByReflashDigest(trx, digest);
    if (credential === undefined || credential.reflash_expires_at <= now) return { revoked: null };
    const replacedNow =
      credential.replaced_at === null && (await markCredentialReplaced(trx, credential.id, now));
    const withinGrace = replacedNow || now - (credential.replaced_at ?? now) <= ctx.graceMs;
    if (!withinGrace) {
      await endSessions(trx, [credential.session_id]);
      return { revoked: credential.session_id };
    }
    await deleteExpiredCredentials(trx, credential.session_id, now);
    await touchSession(trx, credential.session_id, now);
    const result = await issueCredential(ctx, trx, credential.user_id, credential.session_id);
    return { revoked: null, result, replacedToken: credential.token_hash };
  });
  if (outcome.revoked !== null) ctx.cache.forgetSessions([outcome.revoked]);
  if (!('result' in outcome) || outcome.result === undefined) throw new AppError('INVALID_REFLASH_KEY');
  ctx.cache.forgetToken(outcome.replacedToken);
  return outcome.result;
}

/** The session a request's token belongs to; throws INVALID_TOKEN otherwise. */
export async function authenticateToken(ctx: SessionContext, token: string): Promise<AuthenticatedSession> {
  const digest = digestSecret(token);
  const cached = ctx.cache.get(digest);
  if (cached !== undefined) return cached;
  const row = await findCredentialByTokenDigest(ctx.db, digest);
  const now = ctx.clock.now();
  if (row === undefined) throw new AppError('INVALID_TOKEN');
  const validUntil =
    row.replaced_at === null
      ? row.token_expires_at
      : Math.min(row.token_expires_at, row.replaced_at + ctx.graceMs);
  if (validUntil <= now) throw new AppError('INVALID_TOKEN');
  const session = { userId: row.user_id, sessionId: row.session_id, validUntil };
  ctx.cache.set(digest, session);
  return session;
}
