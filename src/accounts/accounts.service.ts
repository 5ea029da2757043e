import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import { digestSecret } from '../crypto/secrets.js';
import { uniqueViolationTarget } from '../db/errors.js';
import type { Executor } from '../db/schema.js';
import { AppError } from '../errors.js';
import type { AuthenticatedSession } from '../http/auth.js';
import { deleteRegistrationsOfUser } from '../registry/registry.repository.js';
import type { PasswordHasher } from './passwords.js';
import type { SessionCache } from './session-cache.js';
import {
  authenticateToken,
  type ClientInfo,
  endSessions,
  type LoginResult,
  refreshSession,
  type SessionContext,
  sessionContext,
  startSession,
} from './session-lifecycle.js';
import { deleteSessions, findSessionCreatedAt, listSessionIdsOfUser } from './sessions.repository.js';
import type { AuthThrottle } from './throttle.js';
import {
  deleteUser,
  findTakenIdentifiers,
  findUserById,
  findUsersByLogin,
  insertUser,
  type UserRow,
  updatePasswordHash,
} from './users.repository.js';

export type { ClientInfo, LoginResult } from './session-lifecycle.js';

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

interface AccountsContext extends SessionContext {
  deps: AccountsDeps;
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

async function loadUser(ctx: AccountsContext, userId: number): Promise<UserRow> {
  const user = await findUserById(ctx.db, userId);
  if (user === undefined) throw new AppError('INVALID_TOKEN');
  return user;
}

/** Checks a password of a signed-in user; a wrong one counts against the account's budget. */
async function confirmPassword(
  ctx: AccountsContext,
  user: UserRow,
  password: string,
  client: ClientInfo,
): Promise<void> {
  const { throttle, hasher } = ctx.deps;
  await throttle.checkAccount(user.username, client.ip);
  if (!(await hasher.verify(user.password_hash, password))) {
    await throttle.recordFailure(user.username, client.ip);
    throw new AppError('WRONG_PASSWORD');
  }
}

type RegisterInput = {
  username: string;
  password: string;
  email?: string | undefined;
  phone?: string | undefined;
};

async function register(
  ctx: AccountsContext,
  input: RegisterInput,
  client: ClientInfo,
): Promise<LoginResult> {
  await ctx.deps.throttle.checkRequest(client.ip);
  const usernameKey = input.username.toLowerCase();
  const email = input.email ? normalizeEmail(input.email) : null;
  const phone = input.phone ? input.phone : null;
  const taken = await findTakenIdentifiers(ctx.db, { usernameKey, email, phone });
  if (taken.username) throw new AppError('USERNAME_EXISTS');
  if (taken.email) throw new AppError('EMAIL_EXISTS');
  if (taken.phone) throw new AppError('PHONE_EXISTS');
  const passwordHash = await ctx.deps.hasher.hash(input.password);
  try {
    return await ctx.db.transaction().execute(async (trx) => {
      const now = ctx.clock.now();
      const userId = await insertUser(trx, {
        username: input.username,
        username_key: usernameKey,
        email,
        phone,
        password_hash: passwordHash,
        created_at: now,
        updated_at: now,
      });
      return startSession(ctx, trx, userId, client);
    });
  } catch (error) {
    const target = uniqueViolationTarget(error);
    if (target === undefined) throw error;
    if (target.includes('email')) throw new AppError('EMAIL_EXISTS');
    if (target.includes('phone')) throw new AppError('PHONE_EXISTS');
    throw new AppError('USERNAME_EXISTS');
  }
}

async function login(
  ctx: AccountsContext,
  input: { username: string; password: string },
  client: ClientInfo,
): Promise<LoginResult> {
  const { throttle, hasher } = ctx.deps;
  await throttle.checkRequest(client.ip);
  await throttle.checkAccount(input.username, client.ip);
  const text = input.username.trim();
  const candidates = await findUsersByLogin(ctx.db, {
    usernameKey: text.toLowerCase(),
    email: normalizeEmail(text),
    phone: text,
  });
  // A user name match wins over another account's e-mail or phone with the same text.
  const user =
    candidates.find((row) => row.username_key === text.toLowerCase()) ??
    candidates.find((row) => row.email === normalizeEmail(text)) ??
    candidates[0];
  // Unknown users cost the same hash as known ones, so timing tells nothing.
  const valid = await hasher.verify(user?.password_hash ?? null, input.password);
  if (user === undefined || !valid) {
    await throttle.recordFailure(input.username, client.ip);
    throw new AppError('BAD_CREDENTIALS');
  }
  await throttle.recordSuccess(input.username, client.ip);
  if (user.password_hash !== null && hasher.needsRehash(user.password_hash)) {
    await updatePasswordHash(ctx.db, user.id, await hasher.hash(input.password), ctx.clock.now());
  }
  return ctx.db.transaction().execute((trx) => startSession(ctx, trx, user.id, client));
}

/** Changes the password and ends every other session of the user. */
async function changePassword(
  ctx: AccountsContext,
  session: AuthenticatedSession,
  input: { old_password: string; new_password: string },
  client: ClientInfo,
): Promise<void> {
  const user = await loadUser(ctx, session.userId);
  await confirmPassword(ctx, user, input.old_password, client);
  const passwordHash = await ctx.deps.hasher.hash(input.new_password);
  const ended = await ctx.db.transaction().execute(async (trx) => {
    await updatePasswordHash(trx, user.id, passwordHash, ctx.clock.now());
    const others = (await listSessionIdsOfUser(trx, user.id)).filter((id) => id !== session.sessionId);
    await endSessions(trx, others);
    return others;
  });
  ctx.cache.forgetSessions(ended);
}

/**
 * Deletes the account: every session and registration goes, and the user name becomes free.
 * A user with a password confirms with it; a user without one (created by a third-party
 * login) must have logged in recently.
 */
async function deleteAccount(
  ctx: AccountsContext,
  session: AuthenticatedSession,
  password: string | undefined,
  client: ClientInfo,
): Promise<void> {
  const user = await loadUser(ctx, session.userId);
  if (user.password_hash === null) {
    const loggedInAt = await findSessionCreatedAt(ctx.db, session.sessionId);
    if (loggedInAt === undefined || ctx.clock.now() - loggedInAt > ctx.deps.recentLoginSeconds * 1000) {
      throw new AppError('RECENT_LOGIN_REQUIRED');
    }
  } else {
    if (password === undefined) throw new AppError('FIELD_MISSING', { field: 'password' });
    await confirmPassword(ctx, user, password, client);
  }
  const { ended, afterCommit } = await ctx.db.transaction().execute(async (trx) => {
    const afterCommit: Array<() => Promise<void>> = [];
    for (const hook of ctx.deps.deletionHooks ?? []) {
      const after = await hook.beforeDelete(trx, user.id);
      if (after !== undefined) afterCommit.push(after);
    }
    const sessionIds = await listSessionIdsOfUser(trx, user.id);
    await deleteRegistrationsOfUser(trx, user.id);
    await deleteSessions(trx, sessionIds);
    await deleteUser(trx, user.id);
    return { ended: sessionIds, afterCommit };
  });
  ctx.cache.forgetSessions(ended);
  await Promise.allSettled(afterCommit.map((after) => after()));
}

async function profile(ctx: AccountsContext, session: AuthenticatedSession): Promise<Profile> {
  const user = await loadUser(ctx, session.userId);
  return {
    id: user.id,
    username: user.username,
    email: user.email,
    phone: user.phone,
    created_at: Math.floor(user.created_at / 1000),
  };
}

export function createAccountsService(deps: AccountsDeps) {
  const ctx: AccountsContext = { ...sessionContext(deps), deps };
  const { throttle } = deps;
  return {
    /** Counts a login-type request against the client address's limit (429 past it). */
    checkRequest: (ip: string): Promise<void> => throttle.checkRequest(ip),
    /** Starts a session for a user inside the caller's transaction: the login body. */
    openSession: (trx: Executor, userId: number, client: ClientInfo): Promise<LoginResult> =>
      startSession(ctx, trx, userId, client),
    register: (input: RegisterInput, client: ClientInfo) => register(ctx, input, client),
    login: (input: { username: string; password: string }, client: ClientInfo) => login(ctx, input, client),
    async refresh(reflashKey: string, client: ClientInfo): Promise<LoginResult> {
      await throttle.checkRequest(client.ip);
      return refreshSession(ctx, reflashKey);
    },
    /** The session of an access token the cache holds, without waiting; else `undefined`. */
    cachedSession: (token: string): AuthenticatedSession | undefined => ctx.cache.get(digestSecret(token)),
    authenticate: (token: string): Promise<AuthenticatedSession> => authenticateToken(ctx, token),
    async logout(session: AuthenticatedSession): Promise<void> {
      await ctx.db.transaction().execute((trx) => endSessions(trx, [session.sessionId]));
      ctx.cache.forgetSessions([session.sessionId]);
    },
    profile: (session: AuthenticatedSession) => profile(ctx, session),
    usernameOf: async (session: AuthenticatedSession): Promise<string> =>
      (await loadUser(ctx, session.userId)).username,
    changePassword: (
      session: AuthenticatedSession,
      input: { old_password: string; new_password: string },
      client: ClientInfo,
    ) => changePassword(ctx, session, input, client),
    deleteAccount: (session: AuthenticatedSession, password: string | undefined, client: ClientInfo) =>
      deleteAccount(ctx, session, password, client),
  };
}

export type AccountsService = ReturnType<typeof createAccountsService>;
