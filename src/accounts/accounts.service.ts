import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import { uniqueViolationTarget } from '../db/errors.js';
import type { Executor } from '../db/schema.js';
import { AppError } from '../errors.js';
import { deleteRegistrationsOfSessions, deleteRegistrationsOfUser } from '../registry/registry.repository.js';
import type { PasswordHasher } from './passwords.js';
import { digestSecret, newOpaqueSecret } from './secrets.js';
import type { AuthenticatedSession, SessionCache } from './session-cache.js';
import {
  deleteExpiredCredentials,
  deleteSessions,
  findCredentialByReflashDigest,
  findCredentialByTokenDigest,
  findSessionCreatedAt,
  insertCredential,
  insertSession,
  listSessionIdsOfUser,
  markCredentialReplaced,
  touchSession,
} from './sessions.repository.js';
import { type AuthThrottle, throttleKey } from './throttle.js';
import {
  deleteUser,
  findTakenIdentifiers,
  findUserById,
  findUsersByLogin,
  insertUser,
  type UserRow,
  updatePasswordHash,
} from './users.repository.js';

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

export interface Profile {
  id: number;
  username: string;
  email: string | null;
  phone: string | null;
  created_at: number;
}

/**
 * Work another feature does when an account is deleted (third-party login revokes Apple
 * tokens). `beforeDelete` runs inside the deleting transaction, before the user row goes; what
 * it returns runs once that transaction has committed, and its failure never undoes the deletion.
 */
export interface AccountDeletionHook {
  beforeDelete(trx: Executor, userId: number): Promise<(() => Promise<void>) | undefined>;
}

export interface AccountsDeps {
  db: Executor;
  clock: Clock;
  hasher: PasswordHasher;
  cache: SessionCache;
  throttle: AuthThrottle;
  sessions: Config['sessions'];
  /** A user without a password (third-party login) deletes the account from a session this recent. */
  recentLoginSeconds: number;
  deletionHooks?: readonly AccountDeletionHook[];
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function createAccountsService(deps: AccountsDeps) {
  const { db, clock, hasher, cache, throttle } = deps;
  const tokenTtlMs = deps.sessions.tokenTtlSeconds * 1000;
  const reflashTtlMs = deps.sessions.reflashTtlSeconds * 1000;
  const graceMs = deps.sessions.reflashGraceSeconds * 1000;

  /** Adds a token + reflash_key pair to a session and returns the login body. */
  async function issueCredential(trx: Executor, userId: number, sessionId: string): Promise<LoginResult> {
    const now = clock.now();
    const token = newOpaqueSecret();
    const reflashKey = newOpaqueSecret();
    const tokenExpiresAt = now + tokenTtlMs;
    await insertCredential(trx, {
      session_id: sessionId,
      token_hash: digestSecret(token),
      reflash_hash: digestSecret(reflashKey),
      token_expires_at: tokenExpiresAt,
      reflash_expires_at: now + reflashTtlMs,
      created_at: now,
      replaced_at: null,
    });
    return {
      id: userId,
      token,
      reflash_key: reflashKey,
      time: Math.floor(tokenExpiresAt / 1000),
      expires_in: Math.floor(tokenTtlMs / 1000),
    };
  }

  /** Ends sessions and removes the push registrations made under them. */
  async function endSessions(trx: Executor, sessionIds: readonly string[]): Promise<void> {
    await deleteRegistrationsOfSessions(trx, sessionIds);
    await deleteSessions(trx, sessionIds);
  }

  async function startSession(trx: Executor, userId: number, client: ClientInfo): Promise<LoginResult> {
    const now = clock.now();
    const sessionId = randomUUID();
    let ended: string[] = [];
    if (deps.sessions.policy === 'single') {
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
    const result = await issueCredential(trx, userId, sessionId);
    cache.forgetSessions(ended);
    return result;
  }

  async function requirePassword(user: UserRow, password: string): Promise<void> {
    if (!(await hasher.verify(user.password_hash, password))) throw new AppError('WRONG_PASSWORD');
  }

  async function loadUser(userId: number): Promise<UserRow> {
    const user = await findUserById(db, userId);
    if (user === undefined) throw new AppError('INVALID_TOKEN');
    return user;
  }

  return {
    /** Counts a login-type request against the client address's limit (429 past it). */
    async checkRequest(ip: string): Promise<void> {
      await throttle.checkRequest(ip);
    },

    /** Starts a session for a user inside the caller's transaction: the login body. */
    openSession(trx: Executor, userId: number, client: ClientInfo): Promise<LoginResult> {
      return startSession(trx, userId, client);
    },

    async register(
      input: { username: string; password: string; email?: string | undefined; phone?: string | undefined },
      client: ClientInfo,
    ): Promise<LoginResult> {
      await throttle.checkRequest(client.ip);
      const usernameKey = input.username.toLowerCase();
      const email = input.email ? normalizeEmail(input.email) : null;
      const phone = input.phone ? input.phone : null;
      const taken = await findTakenIdentifiers(db, { usernameKey, email, phone });
      if (taken.username) throw new AppError('USERNAME_EXISTS');
      if (taken.email) throw new AppError('EMAIL_EXISTS');
      if (taken.phone) throw new AppError('PHONE_EXISTS');
      const passwordHash = await hasher.hash(input.password);
      try {
        return await db.transaction().execute(async (trx) => {
          const now = clock.now();
          const userId = await insertUser(trx, {
            username: input.username,
            username_key: usernameKey,
            email,
            phone,
            password_hash: passwordHash,
            created_at: now,
            updated_at: now,
          });
          return startSession(trx, userId, client);
        });
      } catch (error) {
        const target = uniqueViolationTarget(error);
        if (target === undefined) throw error;
        if (target.includes('email')) throw new AppError('EMAIL_EXISTS');
        if (target.includes('phone')) throw new AppError('PHONE_EXISTS');
        throw new AppError('USERNAME_EXISTS');
      }
    },

    async login(input: { username: string; password: string }, client: ClientInfo): Promise<LoginResult> {
      await throttle.checkRequest(client.ip);
      const login = input.username.trim();
      const candidates = await findUsersByLogin(db, {
        usernameKey: login.toLowerCase(),
        email: normalizeEmail(login),
        phone: login,
      });
      // A user name match wins over another account's e-mail or phone with the same text.
      const user =
        candidates.find((row) => row.username_key === login.toLowerCase()) ??
        candidates.find((row) => row.email === normalizeEmail(login)) ??
        candidates[0];
      const account = user === undefined ? throttleKey.unknownLogin(login) : throttleKey.account(user.id);
      await throttle.checkAccount(account, client.ip);
      // Unknown users cost the same hash as known ones, so timing tells nothing.
      const valid = await hasher.verify(user?.password_hash ?? null, input.password);
      if (user === undefined || !valid) {
        await throttle.recordFailure(account, client.ip);
        throw new AppError('BAD_CREDENTIALS');
      }
      await throttle.recordSuccess(account, client.ip);
      if (user.password_hash !== null && hasher.needsRehash(user.password_hash)) {
        await updatePasswordHash(db, user.id, await hasher.hash(input.password), clock.now());
      }
      return db.transaction().execute((trx) => startSession(trx, user.id, client));
    },

    /**
     * Trades a reflash_key for a new pair. The key just replaced stays usable for the grace
     * period (a retry after a lost response must not log the phone out); any other reuse
     * means the key leaked, and the whole session ends.
     */
    async refresh(reflashKey: string, client: ClientInfo): Promise<LoginResult> {
      await throttle.checkRequest(client.ip);
      const digest = digestSecret(reflashKey);
      const outcome = await db.transaction().execute(async (trx) => {
        const now = clock.now();
        const credential = await findCredentialByReflashDigest(trx, digest);
        if (credential === undefined || credential.reflash_expires_at <= now) return { revoked: null };
        const replacedNow =
          credential.replaced_at === null && (await markCredentialReplaced(trx, credential.id, now));
        const withinGrace = replacedNow || now - (credential.replaced_at ?? now) <= graceMs;
        if (!withinGrace) {
          await endSessions(trx, [credential.session_id]);
          return { revoked: credential.session_id };
        }
        await deleteExpiredCredentials(trx, credential.session_id, now);
        await touchSession(trx, credential.session_id, now);
        const result = await issueCredential(trx, credential.user_id, credential.session_id);
        return { revoked: null, result, replacedToken: credential.token_hash };
      });
      if (outcome.revoked !== null) cache.forgetSessions([outcome.revoked]);
      if (!('result' in outcome) || outcome.result === undefined) throw new AppError('INVALID_REFLASH_KEY');
      cache.forgetToken(outcome.replacedToken);
      return outcome.result;
    },

    /** The session of an access token the cache holds, without waiting; else `undefined`. */
    cachedSession(token: string): AuthenticatedSession | undefined {
      return cache.get(digestSecret(token));
    },

    /** The session a request's token belongs to; throws INVALID_TOKEN otherwise. */
    async authenticate(token: string): Promise<AuthenticatedSession> {
      const digest = digestSecret(token);
      const cached = cache.get(digest);
      if (cached !== undefined) return cached;
      const row = await findCredentialByTokenDigest(db, digest);
      const now = clock.now();
      if (row === undefined) throw new AppError('INVALID_TOKEN');
      const validUntil =
        row.replaced_at === null
          ? row.token_expires_at
          : Math.min(row.token_expires_at, row.replaced_at + graceMs);
      if (validUntil <= now) throw new AppError('INVALID_TOKEN');
      const session = { userId: row.user_id, sessionId: row.session_id, validUntil };
      cache.set(digest, session);
      return session;
    },

    async logout(session: AuthenticatedSession): Promise<void> {
      await db.transaction().execute((trx) => endSessions(trx, [session.sessionId]));
      cache.forgetSessions([session.sessionId]);
    },

    async profile(session: AuthenticatedSession): Promise<Profile> {
      const user = await loadUser(session.userId);
      return {
        id: user.id,
        username: user.username,
        email: user.email,
        phone: user.phone,
        created_at: Math.floor(user.created_at / 1000),
      };
    },

    async usernameOf(session: AuthenticatedSession): Promise<string> {
      return (await loadUser(session.userId)).username;
    },

    /** Changes the password and ends every other session of the user. */
    async changePassword(
      session: AuthenticatedSession,
      input: { old_password: string; new_password: string },
      client: ClientInfo,
    ): Promise<void> {
      const user = await loadUser(session.userId);
      await throttle.checkAccount(throttleKey.account(user.id), client.ip);
      try {
        await requirePassword(user, input.old_password);
      } catch (error) {
        await throttle.recordFailure(throttleKey.account(user.id), client.ip);
        throw error;
      }
      const passwordHash = await hasher.hash(input.new_password);
      const ended = await db.transaction().execute(async (trx) => {
        await updatePasswordHash(trx, user.id, passwordHash, clock.now());
        const others = (await listSessionIdsOfUser(trx, user.id)).filter((id) => id !== session.sessionId);
        await endSessions(trx, others);
        return others;
      });
      cache.forgetSessions(ended);
    },

    /**
     * Deletes the account: every session and registration goes, and the user name becomes free.
     * A user with a password confirms with it; a user without one (created by a third-party
     * login) must have logged in recently.
     */
    async deleteAccount(
      session: AuthenticatedSession,
      password: string | undefined,
      client: ClientInfo,
    ): Promise<void> {
      const user = await loadUser(session.userId);
      if (user.password_hash === null) {
        const loggedInAt = await findSessionCreatedAt(db, session.sessionId);
        if (loggedInAt === undefined || clock.now() - loggedInAt > deps.recentLoginSeconds * 1000) {
          throw new AppError('RECENT_LOGIN_REQUIRED');
        }
      } else {
        if (password === undefined) throw new AppError('FIELD_MISSING', { field: 'password' });
        await throttle.checkAccount(throttleKey.account(user.id), client.ip);
        try {
          await requirePassword(user, password);
        } catch (error) {
          await throttle.recordFailure(throttleKey.account(user.id), client.ip);
          throw error;
        }
      }
      const { ended, afterCommit } = await db.transaction().execute(async (trx) => {
        const afterCommit: Array<() => Promise<void>> = [];
        for (const hook of deps.deletionHooks ?? []) {
          const after = await hook.beforeDelete(trx, user.id);
          if (after !== undefined) afterCommit.push(after);
        }
        const sessionIds = await listSessionIdsOfUser(trx, user.id);
        await deleteRegistrationsOfUser(trx, user.id);
        await deleteSessions(trx, sessionIds);
        await deleteUser(trx, user.id);
        return { ended: sessionIds, afterCommit };
      });
      cache.forgetSessions(ended);
      await Promise.allSettled(afterCommit.map((after) => after()));
    },
  };
}

export type AccountsService = ReturnType<typeof createAccountsService>;
