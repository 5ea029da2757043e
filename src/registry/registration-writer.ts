import { PostgresAdapter } from 'kysely';
import { groupedWorkOf } from '../db/database.js';
import type { Executor } from '../db/schema.js';
import {
  type NewRegistration,
  registrationKey,
  upsertOwnRegistrationNow,
  upsertOwnRegistrations,
  upsertRegistration,
} from './registry.repository.js';

/** What became of an upsert of the caller's own token. */
export interface OwnUpsert {
  /** The row's `created_at`: equal to the upsert's `updated_at` only for a row just added. */
  createdAt: number;
  /** The user's rows on the channel right after the write, when the write could count them. */
  rowsAfter?: number | undefined;
}

export interface RegistrationWriter {
  /**
   * Updates the caller's row for this token, or adds one. `undefined` when another user holds
   * the token (nothing changed).
   */
  upsertOwn(registration: NewRegistration): Promise<OwnUpsert | undefined>;
}

/**
 * On PostgreSQL, registrations arriving together are written together: one statement (one round
 * trip, one commit, one wake-up of a server process) for every registration that arrived while
 * earlier batches were in flight. A statement per request kept both the server and the database
 * switching between connections for single rows. Batches adapt to the load by themselves: a
 * request arriving at an idle writer goes out alone, at once; under load each batch holds what
 * arrived while up to `maxInFlight` others were at the database.
 *
 * On SQLite statements are function calls and commits are already grouped by the driver: each
 * registration is looked up (an unchanged one is not written), written, and for a new row
 * counted, as one unit of work of the driver's group. As statements of their own, each would
 * wait for a group of its own: a new token three groups, the slowest answers of the API.
 */
export function createRegistrationWriter(
  db: Executor,
  options: { maxBatch?: number; maxInFlight?: number; refreshMs?: number } = {},
): RegistrationWriter {
  const refreshMs = options.refreshMs ?? 0;
  const groupedWork = groupedWorkOf(db);
  if (groupedWork !== undefined) {
    return {
      upsertOwn(registration) {
        const writtenSince = refreshMs > 0 ? registration.updated_at - refreshMs : undefined;
        return groupedWork((run) => upsertOwnRegistrationNow(run, db, registration, writtenSince));
      },
    };
  }
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) {
    throw new Error('registrations are written through the SQLite group-commit driver or to PostgreSQL');
  }
  return createBatchingWriter(db, options.maxBatch ?? 200, options.maxInFlight ?? 4, refreshMs);
}

/** The common case first: the same phone in the same session. */
async function upsertOwnAlone(db: Executor, registration: NewRegistration): Promise<OwnUpsert | undefined> {
  const row =
    (await upsertRegistration(db, registration, 'same-session')) ??
    (await upsertRegistration(db, registration, 'same-user'));
  return row === undefined ? undefined : { createdAt: row.created_at };
}

interface PendingUpsert {
  registration: NewRegistration;
  resolve(result: OwnUpsert | undefined): void;
  reject(error: unknown): void;
}

function createBatchingWriter(
  db: Executor,
  maxBatch: number,
  maxInFlight: number,
  refreshMs: number,
): RegistrationWriter {
  // A burst of requests read in one turn of the event loop goes out in batches of this size as
  // it is read, so that the database works on the first ones while the rest are parsed.
  const flushAt = 16;
  let pending: PendingUpsert[] = [];
  let inFlight = 0;
  let scheduled = false;

  function schedule(): void {
    if (scheduled || inFlight >= maxInFlight || pending.length === 0) return;
    scheduled = true;
    // The rest of this turn's requests join the batch.
    setImmediate(() => {
      scheduled = false;
      if (inFlight < maxInFlight) void write(takeBatch());
    });
  }

  /**
   * Up to `maxBatch` registrations, no token twice: one statement may not touch a row twice, so
   * a repeat waits for the next batch (and so sees this one's result, as it would alone).
   */
  function takeBatch(): PendingUpsert[] {
    const batch: PendingUpsert[] = [];
    const later: PendingUpsert[] = [];
    const keys = new Set<string>();
    for (const upsert of pending) {
      const key = registrationKey(upsert.registration);
      if (batch.length >= maxBatch || keys.has(key)) later.push(upsert);
      else {
        keys.add(key);
        batch.push(upsert);
      }
    }
    pending = later;
    return batch;
  }

  async function write(batch: PendingUpsert[]): Promise<void> {
    if (batch.length === 0) return;
    inFlight += 1;
    try {
      const registrations = batch.map((upsert) => upsert.registration);
      const newest = Math.max(...registrations.map((registration) => registration.updated_at));
      const writtenSince = refreshMs > 0 ? newest - refreshMs : Number.MAX_SAFE_INTEGER;
      const results = await upsertOwnRegistrations(db, registrations, writtenSince);
      batch.forEach((upsert, index) => {
        upsert.resolve(results[index]);
      });
    } catch {
      // One registration the database refuses (its session ended meanwhile: a foreign key)
      // fails the statement for all; each is then written alone and answered for itself.
      await Promise.all(batch.map(writeAlone));
    } finally {
      inFlight -= 1;
      schedule();
    }
  }

  async function writeAlone(upsert: PendingUpsert): Promise<void> {
    try {
      upsert.resolve(await upsertOwnAlone(db, upsert.registration));
    } catch (error) {
      upsert.reject(error);
    }
  }

  return {
    upsertOwn(registration) {
      return new Promise((resolve, reject) => {
        pending.push({ registration, resolve, reject });
        if (pending.length >= flushAt && inFlight < maxInFlight) void write(takeBatch());
        else schedule();
      });
    },
  };
}
