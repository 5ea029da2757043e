import type { Clock } from '../clock.js';
import { isForeignKeyViolation } from '../db/errors.js';
import type { Executor } from '../db/schema.js';
import { AppError } from '../errors.js';
import type { AuthenticatedSession } from '../http/auth.js';
import { createRegistrationWriter, type RegistrationWriter } from './registration-writer.js';
import {
  type Channel,
  deleteRegistration,
  deleteRegistrationByToken,
  deleteRegistrationsOfUser,
  findRegistration,
  listRegistrations,
  type NewRegistration,
  type RegistrationRow,
  takeOverRegistration,
  trimRegistrations,
  updateRegistration,
} from './registry.repository.js';
import { routeRegistration } from './routing.js';

export interface RegistrationInput {
  push_token: string;
  language: string;
  id?: number | undefined;
  dev?: number | undefined;
  bundleid?: string | null | undefined;
  os?: string | null | undefined;
  os_token?: string | null | undefined;
  push_platform?: string | null | undefined;
  phone_model?: string | null | undefined;
}

/** A registration as the manual's GET returns it (`id` is the user id), plus `seq` and the route. */
export interface Registration {
  seq: number;
  id: number;
  push_token: string;
  language: string;
  dev: number;
  bundleid: string;
  os: string;
  os_token: string;
  push_platform: string;
  phone_model: string;
  provider: string;
}

export interface RegistryDeps {
  db: Executor;
  clock: Clock;
  maxPerChannel: number;
  /**
   * A re-registration that changes nothing is not written while the row is younger than this;
   * the row's time (which decides the oldest to drop at the limit) is kept this fresh. 0: always written.
   */
  refreshMs: number;
  defaultBundleId: string;
  /** Recognises push tokens issued by Bellhop's own push channel. */
  isChannelToken?: (token: string) => boolean;
  /** Writes the caller's own tokens; by default the fastest way the database offers. */
  writer?: RegistrationWriter;
}

/** `zh_CN` and `zh-CN` are the same language tag. */
export function normalizeLanguage(language: string): string {
  return language.trim().replaceAll('_', '-');
}

function toRegistration(row: RegistrationRow): Registration {
  return {
    seq: row.seq,
    id: row.user_id,
    push_token: row.push_token,
    language: row.language,
    dev: row.dev,
    bundleid: row.bundleid,
    os: row.os,
    os_token: row.os_token,
    push_platform: row.push_platform,
    phone_model: row.phone_model,
    provider: row.provider,
  };
}

interface RegistryContext {
  deps: RegistryDeps;
  writer: RegistrationWriter;
}

function routeColumns(deps: RegistryDeps, registration: Parameters<typeof routeRegistration>[0]) {
  const route = routeRegistration(registration, deps.isChannelToken);
  return {
    provider: route.provider,
    provider_token: route.providerToken,
    apns_environment: route.apnsEnvironment,
  };
}

/** The row a registration writes: the input cleaned, the route chosen. */
function newRegistration(
  deps: RegistryDeps,
  session: AuthenticatedSession,
  channel: Channel,
  input: RegistrationInput,
  now: number,
): NewRegistration {
  const routable = {
    push_token: input.push_token,
    os: (input.os ?? '').trim().toUpperCase(),
    os_token: (input.os_token ?? '').trim(),
    push_platform: (input.push_platform ?? '').trim().toUpperCase(),
    dev: input.dev ?? 0,
  };
  const route = routeRegistration(routable, deps.isChannelToken);
  // Every field written out (no spreads): one object shape on the hottest path of the API.
  return {
    user_id: session.userId,
    session_id: session.sessionId,
    channel,
    push_token: routable.push_token,
    language: normalizeLanguage(input.language),
    dev: routable.dev,
    bundleid: input.bundleid?.trim() || deps.defaultBundleId,
    os: routable.os,
    os_token: routable.os_token,
    push_platform: routable.push_platform,
    phone_model: (input.phone_model ?? '').trim(),
    provider: route.provider,
    provider_token: route.providerToken,
    apns_environment: route.apnsEnvironment,
    created_at: now,
    updated_at: now,
  };
}

/** Registers (or updates) a push token for the caller on a channel; the token moves to the caller. */
async function register(
  { deps, writer }: RegistryContext,
  session: AuthenticatedSession,
  channel: Channel,
  input: RegistrationInput,
): Promise<void> {
  if (input.id !== undefined && input.id !== 0 && input.id !== session.userId) {
    throw new AppError('FORBIDDEN', { field: 'id' });
  }
  const now = deps.clock.now();
  const registration = newRegistration(deps, session, channel, input, now);
  let rowsAfter: number | undefined;
  try {
    // The common case is a phone re-registering its own token: one statement, and the
    // user's row count cannot have grown. A new row, or one taken over from another
    // user, may take the user past the limit.
    const own = await writer.upsertOwn(registration);
    if (own !== undefined && own.createdAt !== now) return;
    if (own === undefined) await takeOverRegistration(deps.db, registration);
    else rowsAfter = own.rowsAfter;
  } catch (error) {
    // The session ended (logout, password change) while this request was in flight.
    if (isForeignKeyViolation(error)) throw new AppError('INVALID_TOKEN');
    throw error;
  }
  if (rowsAfter === undefined || rowsAfter > deps.maxPerChannel) {
    await trimRegistrations(deps.db, session.userId, channel, deps.maxPerChannel);
  }
}

/** Changes one of the caller's registrations; another user's `seq` is not found. */
async function update(
  deps: RegistryDeps,
  session: AuthenticatedSession,
  channel: Channel,
  seq: number,
  changes: { push_token?: string | undefined; language?: string | undefined },
): Promise<void> {
  await deps.db.transaction().execute(async (trx) => {
    const row = await findRegistration(trx, session.userId, channel, seq);
    if (row === undefined) throw new AppError('NOT_FOUND');
    const pushToken = changes.push_token ?? row.push_token;
    if (pushToken !== row.push_token) await deleteRegistrationByToken(trx, channel, pushToken, seq);
    await updateRegistration(trx, seq, {
      push_token: pushToken,
      language: changes.language === undefined ? row.language : normalizeLanguage(changes.language),
      ...routeColumns(deps, { ...row, push_token: pushToken }),
      updated_at: deps.clock.now(),
    });
  });
}

export function createRegistryService(deps: RegistryDeps) {
  const { db } = deps;
  const ctx: RegistryContext = {
    deps,
    writer: deps.writer ?? createRegistrationWriter(db, { refreshMs: deps.refreshMs }),
  };
  return {
    register: (session: AuthenticatedSession, channel: Channel, input: RegistrationInput): Promise<void> =>
      register(ctx, session, channel, input),

    async list(session: AuthenticatedSession, channel: Channel): Promise<Registration[]> {
      return (await listRegistrations(db, session.userId, channel)).map(toRegistration);
    },

    update: (
      session: AuthenticatedSession,
      channel: Channel,
      seq: number,
      changes: { push_token?: string | undefined; language?: string | undefined },
    ): Promise<void> => update(deps, session, channel, seq, changes),

    async remove(session: AuthenticatedSession, channel: Channel, seq: number): Promise<void> {
      if (!(await deleteRegistration(db, session.userId, channel, seq))) throw new AppError('NOT_FOUND');
    },

    async removeAll(session: AuthenticatedSession, channel: Channel): Promise<number> {
      return deleteRegistrationsOfUser(db, session.userId, channel);
    },
  };
}

export type RegistryService = ReturnType<typeof createRegistryService>;
