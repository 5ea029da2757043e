import { groupedWorkOf } from '../db/database.js';
import { isPostgres } from '../db/dialect.js';
import type { Executor } from '../db/schema.js';
import {
  type NewRegistration,
  type OwnUpsert,
  registrationKey,
  upsertOwnRegistration,
  upsertOwnRegistrationNow,
  upsertOwnRegistrations,
} from './registry.repository.js';

export interface RegistrationWriter {
  /**
   * Updates the caller's row for this token, or adds one. `undefined` when another user holds
   * the token (nothing changed).
   */
  upsertOwn(registration: NewRegistration): Promise<OwnUpsert | undefined>;
}

/**
 * How own-token upserts reach the database; each leaves the same rows and gives the same answers.
 * - `grouped` (SQLite): each registration's statements run as one unit of work of the
 *   group-commit driver. As statements of their own, each would wait for a group of its own:
 *   a new token three groups, the slowest answers of the API.
 * - `batched` (PostgreSQL): registrations arriving together are written by one statement (one
 *   round trip, one commit, one wake-up of a server process) for every registration that arrived
 *   while earlier batches were in flight; `statements` for each when a batch is refused. A
 *   statement per request kept both the server and the database switching between connections
 *   for single rows. Batches adapt to the load by themselves: a request arriving at an idle
 *   writer goes out alone, at once; under load each batch holds what arrived while up to
 *   `maxInFlight` others were at the database.
 * - `statements` (either): one statement after another.
 */
export type WritePath = 'grouped' | 'batched' | 'statements';

export interface RegistrationWriterOptions {
  /**
   * A re-registration that changes nothing is not written while its row is younger than this.
   * 0: always written.
   */
  refreshMs?: number;
  /** By default the fastest the database offers: `grouped` on SQLite, `batched` on PostgreSQL. */
  path?: WritePath;
  maxBatch?: number;
  maxInFlight?: number;
}

export function createRegistrationWriter(
  db: Executor,
  options: RegistrationWriterOptions = {},
): RegistrationWriter {
  const refreshMs = options.refreshMs ?? 0;
  const writtenSince = (registration: NewRegistration) =>
    refreshMs > 0 ? registration.updated_at - refreshMs : undefined;
  const groupedWork = groupedWorkOf(db);
  const onPostgres = isPostgres(db);
  const path = options.path ?? (onPostgres ? 'batched' : 'grouped');
  if (path === 'grouped') {
    if (groupedWork === undefined) throw new Error('grouped writes need the SQLite group-commit driver');
    return {
      upsertOwn(registration) {
        const since = writtenSince(registration);
        return groupedWork((run) => upsertOwnRegistrationNow(run, registration, since));
      },
    };
  }
  const statements: RegistrationWriter = {
    upsertOwn: (registration) => upsertOwnRegistration(db, registration, writtenSince(registration)),
  };
  if (path === 'statements') return statements;
  if (!onPostgres) throw new Error('batched writes need PostgreSQL');
  return createBatchingWriter(db, options.maxBatch ?? 200, options.maxInFlight ?? 4, refreshMs, statements);
}

interface PendingUpsert {
  registration: NewRegistration;
  resolve(result: OwnUpsert | undefined): void;
  reject(error: unknown): void;
}

/**
 * Up to `maxBatch` registrations, no token twice: one statement may not touch a row twice, so
 * a repeat waits for the next batch (and so sees this one's result, as it would alone).
 */
function splitBatch(pending: readonly PendingUpsert[], maxBatch: number) {
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
  return { batch, later };
}

function createBatchingWriter(
  db: Executor,
  maxBatch: number,
  maxInFlight: number,
  refreshMs: number,
  alone: RegistrationWriter,
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

  function takeBatch(): PendingUpsert[] {
    const { batch, later } = splitBatch(pending, maxBatch);
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
      upsert.resolve(await alone.upsertOwn(upsert.registration));
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
