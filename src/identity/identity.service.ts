import { createHash, randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type {
  AccountDeletionHook,
  AccountsService,
  ClientInfo,
  LoginResult,
} from '../accounts/accounts.service.js';
import { findUserById, insertUser } from '../accounts/users.repository.js';
import type { Clock } from '../clock.js';
import type { SecretBox } from '../crypto/secret-box.js';
import { isForeignKeyViolation, uniqueViolationTarget } from '../db/errors.js';
import type { Executor, IdentityProvider } from '../db/schema.js';
import { AppError } from '../errors.js';
import type { AuthenticatedSession } from '../http/auth.js';
import {
  deleteIdentitiesOfUser,
  deleteIdentity,
  findIdentityBySubjects,
  findIdentityOfUser,
  type IdentityRow,
  insertIdentity,
  listIdentitiesOfUser,
  lockUser,
  updateIdentity,
} from './identities.repository.js';
import type { AppleCredentials, IdentityVerifier, ProviderInputs, VerifiedIdentity } from './provider.js';
import type { AppleVerifier } from './providers/apple.js';

/** The verifiers of the configured providers; an absent one answers 501. */
export interface IdentityVerifiers {
  weixin?: IdentityVerifier<ProviderInputs['weixin']> | undefined;
  facebook?: IdentityVerifier<ProviderInputs['facebook']> | undefined;
  apple?: AppleVerifier | undefined;
  google?: IdentityVerifier<ProviderInputs['google']> | undefined;
}

export interface IdentityDeps {
  db: Executor;
  clock: Clock;
  accounts: AccountsService;
  verifiers: IdentityVerifiers;
  box: SecretBox;
  log: Logger;
}

export interface LinkedIdentity {
  provider: IdentityProvider;
  display_name: string | null;
  /** Unix seconds. */
  linked_at: number;
}

/** The user names the Lancens manual gives third-party accounts: `wx_…`, `fb_…`. */
const usernamePrefixes: Record<IdentityProvider, string> = {
  weixin: 'wx_',
  facebook: 'fb_',
  apple: 'apple_',
  google: 'google_',
};

/**
 * A user name derived from the identity (the same person gets the same name on any server),
 * with a random suffix on the rare retry after a clash. At most 7 + 12 + 5 = 24 characters.
 */
export function usernameFor(provider: IdentityProvider, subject: string, attempt: number): string {
  const digest = createHash('sha256').update(`${provider}:${subject}`).digest('hex').slice(0, 12);
  const suffix = attempt === 0 ? '' : `_${randomBytes(2).toString('hex')}`;
  return `${usernamePrefixes[provider]}${digest}${suffix}`;
}

const maxAttempts = 5;

const toLinked = (row: IdentityRow): LinkedIdentity => ({
  provider: row.provider,
  display_name: row.display_name,
  linked_at: Math.floor(row.created_at / 1000),
});

function verifierFor<P extends IdentityProvider>(verifiers: IdentityVerifiers, provider: P) {
  const verifier = verifiers[provider];
  if (verifier === undefined) throw new AppError('PROVIDER_NOT_CONFIGURED', { field: provider });
  return verifier as IdentityVerifier<ProviderInputs[P]>;
}

async function verify<P extends IdentityProvider>(deps: IdentityDeps, provider: P, input: ProviderInputs[P]) {
  if (provider === 'weixin') {
    const body = input as ProviderInputs['weixin'];
    if (body.code === undefined) {
      if (body.access_token === undefined) throw new AppError('FIELD_MISSING', { field: 'code' });
      if (body.openid === undefined) throw new AppError('FIELD_MISSING', { field: 'openid' });
    }
  }
  const verifier = verifierFor(deps.verifiers, provider);
  try {
    return await verifier.verify(input);
  } catch (error) {
    if (error instanceof AppError) {
      const why = error.cause instanceof Error ? error.cause.message : undefined;
      if (error.code === 'PROVIDER_UNAVAILABLE')
        deps.log.warn({ provider, why }, 'login provider unavailable');
      else deps.log.info({ provider, code: error.code, why }, 'third-party login refused');
    }
    throw error;
  }
}

const seal = (box: SecretBox, credentials: AppleCredentials | undefined) =>
  credentials === undefined ? undefined : box.seal(JSON.stringify(credentials));

/** What a new login changes on a known identity: an upgraded subject, a name, Apple's token. */
function refreshed(deps: IdentityDeps, row: IdentityRow, verified: VerifiedIdentity) {
  const sealed = seal(deps.box, verified.credentials);
  const name = verified.displayName ?? (row.display_name === null ? verified.fallbackName : null);
  return {
    updated_at: deps.clock.now(),
    ...(row.subject !== verified.subject ? { subject: verified.subject } : {}),
    ...(name !== null && name !== row.display_name ? { display_name: name } : {}),
    ...(sealed !== undefined ? { credentials: sealed } : {}),
  };
}

const subjectsOf = (verified: VerifiedIdentity) => [verified.subject, ...verified.formerSubjects];

async function loginWith(
  deps: IdentityDeps,
  verified: VerifiedIdentity,
  client: ClientInfo,
): Promise<LoginResult> {
  const { db, clock, accounts } = deps;
  for (let attempt = 0; attempt < maxAttempts; attempt += 1) {
    const known = await findIdentityBySubjects(db, verified.provider, subjectsOf(verified));
    try {
      return await db.transaction().execute(async (trx) => {
        if (known !== undefined) {
          await updateIdentity(trx, known.id, refreshed(deps, known, verified));
          return accounts.openSession(trx, known.user_id, client);
        }
        const now = clock.now();
        const username = usernameFor(verified.provider, verified.subject, attempt);
        const userId = await insertUser(trx, {
          username,
          username_key: username.toLowerCase(),
          email: null,
          phone: null,
          password_hash: null,
          created_at: now,
          updated_at: now,
        });
        await insertIdentity(trx, {
          user_id: userId,
          provider: verified.provider,
          subject: verified.subject,
          display_name: verified.displayName ?? verified.fallbackName,
          credentials: seal(deps.box, verified.credentials) ?? null,
          created_at: now,
          updated_at: now,
        });
        return accounts.openSession(trx, userId, client);
      });
    } catch (error) {
      // A concurrent first login created the identity (or took the user name, or the user
      // was deleted meanwhile): nothing was written; read again and retry.
      if (uniqueViolationTarget(error) === undefined && !isForeignKeyViolation(error)) throw error;
    }
  }
  throw new AppError('SERVICE_UNAVAILABLE', { retryAfterSeconds: 1 });
}

async function bindTo(
  deps: IdentityDeps,
  session: AuthenticatedSession,
  verified: VerifiedIdentity,
): Promise<LinkedIdentity> {
  const { db, clock } = deps;
  const { provider } = verified;
  for (let attempt = 0; attempt < maxAttempts; attempt += 1) {
    try {
      return await db.transaction().execute(async (trx) => {
        await lockUser(trx, session.userId);
        const known = await findIdentityBySubjects(trx, provider, subjectsOf(verified));
        if (known !== undefined && known.user_id !== session.userId) {
          throw new AppError('IDENTITY_TAKEN', { field: provider });
        }
        if (known !== undefined) {
          const changes = refreshed(deps, known, verified);
          await updateIdentity(trx, known.id, changes);
          return toLinked({ ...known, ...changes });
        }
        if ((await findIdentityOfUser(trx, session.userId, provider)) !== undefined) {
          throw new AppError('PROVIDER_ALREADY_BOUND', { field: provider });
        }
        const now = clock.now();
        const row = {
          user_id: session.userId,
          provider,
          subject: verified.subject,
          display_name: verified.displayName ?? verified.fallbackName,
          credentials: seal(deps.box, verified.credentials) ?? null,
          created_at: now,
          updated_at: now,
        };
        await insertIdentity(trx, row);
        return toLinked({ ...row, id: 0 });
      });
    } catch (error) {
      if (isForeignKeyViolation(error)) throw new AppError('INVALID_TOKEN');
      if (uniqueViolationTarget(error) === undefined) throw error;
    }
  }
  throw new AppError('SERVICE_UNAVAILABLE', { retryAfterSeconds: 1 });
}

/**
 * Third-party login and binding. A verified identity logs in the user it belongs to, or
 * creates one (no password) in the same transaction as the identity and the session. Accounts
 * are never linked by e-mail: binding is an explicit call of a logged-in user.
 */
export function createIdentityService(deps: IdentityDeps) {
  const { db, accounts, verifiers, box, log } = deps;
  return {
    async login<P extends IdentityProvider>(
      provider: P,
      input: ProviderInputs[P],
      client: ClientInfo,
    ): Promise<LoginResult> {
      await accounts.checkRequest(client.ip);
      const verified = await verify(deps, provider, input);
      return loginWith(deps, verified, client);
    },

    /** Links a third-party identity to the caller. */
    async bind<P extends IdentityProvider>(
      session: AuthenticatedSession,
      provider: P,
      input: ProviderInputs[P],
      client: ClientInfo,
    ): Promise<LinkedIdentity> {
      await accounts.checkRequest(client.ip);
      const verified = await verify(deps, provider, input);
      return bindTo(deps, session, verified);
    },

    /** Unlinks the caller's identity of a provider, unless it is their last way to log in. */
    async unbind(session: AuthenticatedSession, provider: IdentityProvider): Promise<void> {
      const removed = await db.transaction().execute(async (trx) => {
        await lockUser(trx, session.userId);
        const identity = await findIdentityOfUser(trx, session.userId, provider);
        if (identity === undefined) throw new AppError('NOT_FOUND');
        const user = await findUserById(trx, session.userId);
        if (user === undefined) throw new AppError('INVALID_TOKEN');
        const identities = await listIdentitiesOfUser(trx, session.userId);
        if (user.password_hash === null && identities.length <= 1) throw new AppError('LAST_LOGIN_METHOD');
        await deleteIdentity(trx, identity.id);
        return identity;
      });
      if (removed.provider === 'apple' && removed.credentials !== null) {
        await revokeKeptAppleTokens(
          { box, log, apple: verifiers.apple },
          removed.credentials,
          session.userId,
        );
      }
    },

    async list(session: AuthenticatedSession): Promise<LinkedIdentity[]> {
      return (await listIdentitiesOfUser(db, session.userId)).map(toLinked);
    },
  };
}

export type IdentityService = ReturnType<typeof createIdentityService>;

interface RevocationDeps {
  box: SecretBox;
  log: Logger;
  apple: AppleVerifier | undefined;
}

/** Revokes the Apple tokens kept in a sealed box. Failures are logged, never thrown. */
async function revokeKeptAppleTokens(deps: RevocationDeps, sealed: string, userId: number): Promise<void> {
  const { apple, log } = deps;
  try {
    if (apple === undefined || !apple.canRevoke) {
      log.warn(
        { provider: 'apple', userId },
        'cannot revoke Apple tokens: no Sign in with Apple key configured',
      );
      return;
    }
    await apple.revoke(JSON.parse(deps.box.open(sealed)) as AppleCredentials);
    log.info({ provider: 'apple', userId }, 'revoked Apple tokens');
  } catch (error) {
    log.warn({ provider: 'apple', userId, err: error }, 'revoking Apple tokens failed');
  }
}

/**
 * Account deletion removes the user's identities in its transaction, then revokes the Apple
 * tokens they kept. Built before the identity service, which needs the accounts service.
 */
export function identityDeletionHook(deps: RevocationDeps): AccountDeletionHook {
  return {
    async beforeDelete(trx, userId) {
      const rows = await listIdentitiesOfUser(trx, userId);
      await deleteIdentitiesOfUser(trx, userId);
      const kept = rows.flatMap((row) =>
        row.provider === 'apple' && row.credentials !== null ? [row.credentials] : [],
      );
      if (kept.length === 0) return undefined;
      return async () => {
        for (const sealed of kept) await revokeKeptAppleTokens(deps, sealed, userId);
      };
    },
  };
}
