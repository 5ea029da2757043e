import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dialect } from '../../src/db/database.js';
import { AppError } from '../../src/errors.js';
import { createRegistrationWriter, type WritePath } from '../../src/registry/registration-writer.js';
import { type Channel, upsertColumns } from '../../src/registry/registry.repository.js';
import { createRegistryService, type RegistrationInput } from '../../src/registry/registry.service.js';
import { createTestDatabase, type TestDatabase, testDialects } from '../helpers/app.js';
import { ManualClock } from '../helpers/clock.js';

/**
 * A phone's registration is written one of three ways: as one unit of work of the SQLite
 * group-commit driver, in a PostgreSQL batch statement (each registration alone when a batch is
 * refused), or statement by statement. The same registrations, issued one by one or together,
 * must leave the same rows and get the same answers whichever way they went, on either database.
 *
 * Reproducible: WRITE_PATHS_SEED and WRITE_PATHS_RUNS override the fixed defaults;
 * WRITE_PATHS_SHRINK=0 reports the first failing scenario as found, without shrinking it.
 */

const seed = Number(process.env.WRITE_PATHS_SEED ?? 20261208);
const numRuns = Number(process.env.WRITE_PATHS_RUNS ?? 40);

const userIds = [1, 2, 3] as const;
const sessionIdOf = (userId: number, session: number) => `session-${userId}-${session}`;
const start = Date.UTC(2026, 11, 8, 12, 0, 0);
/** Not a multiple of the clock's steps, so that no row is ever exactly at the refresh boundary. */
const refreshMs = 5_500;

/** A phone of one user, signed in with one of their sessions, holding a token on a channel. */
interface Phone {
  userId: (typeof userIds)[number];
  session: 0 | 1;
  channel: Channel;
  token: string;
}

interface Registration {
  userId: number;
  session: 0 | 1;
  channel: Channel;
  input: RegistrationInput;
}

type Step =
  /** Registrations issued together (in one turn of the event loop), after the clock moved. */
  | { kind: 'register'; advanceMs: number; registrations: Array<{ phone: number; body: number }> }
  /** A logout: the session's rows go with it; a later registration of it is refused. */
  | { kind: 'end-session'; userId: number; session: 0 | 1 };

/**
 * What a phone sends: mostly its usual body, so that re-registrations that change nothing are
 * common; sometimes one field differs (a new language, a maker token, a development build).
 */
const bodies: ReadonlyArray<Omit<RegistrationInput, 'push_token'>> = [
  { language: 'en', os: 'ios', dev: 0, phone_model: 'iPhone' },
  { language: 'de_DE', os: 'ios', dev: 0, phone_model: 'iPhone' },
  { language: 'en', os: 'android', os_token: 'maker-token', push_platform: 'huawei', phone_model: 'Mate' },
  { language: 'en', os: 'ios', dev: 1 },
];

/** Few tokens for several phones: the same token comes from another session or another user. */
const phoneArbitrary: fc.Arbitrary<Phone> = fc.record({
  userId: fc.constantFrom(...userIds),
  session: fc.constantFrom(0 as const, 1 as const),
  channel: fc.constantFrom<Channel>('ring', 'message'),
  token: fc.constantFrom('t0', 't1', 't2'),
});

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('register' as const),
      advanceMs: fc.constantFrom(0, 1_000, 2_000, 5_000, 6_000),
      registrations: fc.array(
        fc.record({
          phone: fc.nat(),
          body: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, fc.nat({ max: bodies.length - 1 })),
        }),
        { minLength: 1, maxLength: 5 },
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('end-session' as const),
      userId: fc.constantFrom(...userIds),
      session: fc.constantFrom(0 as const, 1 as const),
    }),
  },
);

const scenarioArbitrary = fc.record({
  maxPerChannel: fc.constantFrom(1, 2, 3),
  refresh: fc.boolean(),
  phones: fc.array(phoneArbitrary, { minLength: 1, maxLength: 6 }),
  steps: fc.array(stepArbitrary, { minLength: 1, maxLength: 12 }),
});

type Scenario = typeof scenarioArbitrary extends fc.Arbitrary<infer T> ? T : never;

function registrationsOf(scenario: Scenario, step: Step & { kind: 'register' }): Registration[] {
  return step.registrations.map(({ phone: index, body }) => {
    const phone = scenario.phones[index % scenario.phones.length] as Phone;
    return {
      userId: phone.userId,
      session: phone.session,
      channel: phone.channel,
      input: { push_token: phone.token, ...(bodies[body] ?? { language: 'en' }) },
    };
  });
}

interface Path {
  label: string;
  dialect: Dialect;
  path: WritePath;
  database: TestDatabase;
}

const pathsOf = (dialect: Dialect): WritePath[] =>
  dialect === 'sqlite' ? ['grouped', 'statements'] : ['batched', 'statements'];

/** Every row but its `seq`, which each database numbers its own way. */
async function rowsOf(path: Path) {
  const rows = await path.database.handle.db
    .selectFrom('registrations')
    .select([...upsertColumns])
    .orderBy('channel')
    .orderBy('push_token')
    .execute();
  return rows.map((row) => ({
    ...row,
    user_id: Number(row.user_id),
    created_at: Number(row.created_at),
    updated_at: Number(row.updated_at),
  }));
}

/** Three users with two sessions each, and no registrations. */
async function reset(path: Path): Promise<void> {
  const { db } = path.database.handle;
  await db.deleteFrom('registrations').execute();
  await db.deleteFrom('sessions').execute();
  if ((await db.selectFrom('users').select('id').execute()).length === 0) {
    await db
      .insertInto('users')
      .values(
        userIds.map((id) => ({
          id,
          username: `user${id}`,
          username_key: `user${id}`,
          created_at: start,
          updated_at: start,
        })),
      )
      .execute();
  }
  await db
    .insertInto('sessions')
    .values(
      userIds.flatMap((userId) =>
        [0, 1].map((session) => ({
          id: sessionIdOf(userId, session),
          user_id: userId,
          created_at: start,
          refreshed_at: start,
        })),
      ),
    )
    .execute();
}

/**
 * Registrations issued together race, on any path, where the order in which they land changes
 * the rows: the same token twice; one takes a token from a user who registers on the same
 * channel in the same burst (which lands last?); or one re-registers a token its user holds
 * while another registration of that user may trim their rows (the row may go before it is
 * rewritten, then comes back as a new row). Those are issued one by one after the burst, in
 * their order.
 */
function splitRaces(registrations: Registration[], holders: Map<string, number>) {
  const together: Registration[] = [];
  const oneByOne: Registration[] = [];
  for (const registration of registrations) {
    const { channel } = registration;
    const key = `${channel} ${registration.input.push_token}`;
    const holder = holders.get(key);
    const racing =
      together.some((other) => `${other.channel} ${other.input.push_token}` === key) ||
      (holder !== undefined &&
        registrations.some(
          (other) => other !== registration && other.channel === channel && other.userId === holder,
        ));
    (racing ? oneByOne : together).push(registration);
  }
  return { together, oneByOne };
}

/** Runs the scenario on one path; after each step, its rows and the answers of the step. */
async function play(path: Path, scenario: Scenario): Promise<Array<{ rows: unknown; answers: string[] }>> {
  await reset(path);
  const clock = new ManualClock(start);
  const db = path.database.handle.relaxed;
  const refresh = scenario.refresh ? refreshMs : 0;
  const registry = createRegistryService({
    db,
    clock,
    maxPerChannel: scenario.maxPerChannel,
    refreshMs: refresh,
    defaultBundleId: 'com.example.doorbell',
    writer: createRegistrationWriter(db, { refreshMs: refresh, path: path.path }),
  });
  const register = (registration: Registration) => {
    const session = {
      userId: registration.userId,
      sessionId: sessionIdOf(registration.userId, registration.session),
      validUntil: Number.MAX_SAFE_INTEGER,
    };
    const answer = registry.register(session, registration.channel, registration.input).then(
      () => 'stored',
      (error: unknown) => (error instanceof AppError ? error.code : `failed: ${String(error)}`),
    );
    // Each registration at a time of its own: the row kept at the limit is then the newest.
    clock.advance(1);
    return answer;
  };
  const trace: Array<{ rows: unknown; answers: string[] }> = [];
  let rows = await rowsOf(path);
  for (const step of scenario.steps) {
    let answers: string[];
    if (step.kind === 'end-session') {
      const sessionId = sessionIdOf(step.userId, step.session);
      await db.deleteFrom('registrations').where('session_id', '=', sessionId).execute();
      await db.deleteFrom('sessions').where('id', '=', sessionId).execute();
      answers = [];
    } else {
      clock.advance(step.advanceMs);
      const holders = new Map(rows.map((row) => [`${row.channel} ${row.push_token}`, row.user_id]));
      const { together, oneByOne } = splitRaces(registrationsOf(scenario, step), holders);
      answers = await Promise.all(together.map(register));
      for (const registration of oneByOne) answers.push(await register(registration));
    }
    rows = await rowsOf(path);
    trace.push({ rows, answers });
  }
  return trace;
}

describe('the write paths of a registration', () => {
  const paths: Path[] = [];
  beforeAll(async () => {
    for (const dialect of testDialects()) {
      for (const path of pathsOf(dialect)) {
        paths.push({
          label: `${dialect} ${path}`,
          dialect,
          path,
          database: await createTestDatabase(dialect),
        });
      }
    }
  });
  afterAll(async () => {
    await Promise.all(paths.map((path) => path.database.drop()));
  });

  it('leave the same rows and give the same answers for the same registrations', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArbitrary, async (scenario) => {
        const [reference, ...others] = paths;
        if (reference === undefined) throw new Error('no database to test on');
        const expected = await play(reference, scenario);
        for (const path of others) {
          const trace = await play(path, scenario);
          trace.forEach((state, index) => {
            expect(state, `${path.label} after step ${index + 1}, as ${reference.label}`).toEqual(
              expected[index],
            );
          });
        }
      }),
      { seed, numRuns, endOnFailure: process.env.WRITE_PATHS_SHRINK === '0' },
    );
  }, 240_000);
});
