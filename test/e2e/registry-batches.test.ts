import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dialect } from '../../src/db/database.js';
import type { AuthenticatedSession } from '../../src/http/auth.js';
import { upsertOwnRegistrations } from '../../src/registry/registry.repository.js';
import { createRegistryService, type RegistryService } from '../../src/registry/registry.service.js';
import { createTestApp, registerUser, type TestApp, testDialects } from '../helpers/app.js';

async function latestSession(t: TestApp, user: { id: number }): Promise<AuthenticatedSession> {
  const { id: sessionId } = await t.database.handle.db
    .selectFrom('sessions')
    .select('id')
    .where('user_id', '=', user.id)
    .orderBy('created_at', 'desc')
    .executeTakeFirstOrThrow();
  return { userId: user.id, sessionId, validUntil: t.clock.now() + 3_600_000 };
}

const registrationsOf = (t: TestApp, userId: number) =>
  t.database.handle.db
    .selectFrom('registrations')
    .select(['push_token', 'channel', 'session_id', 'language'])
    .where('user_id', '=', userId)
    .orderBy('push_token')
    .execute();

/** An app, and a registry on the app's registration handle that keeps 3 rows per channel. */
async function setUp(dialect: Dialect): Promise<{ t: TestApp; registry: RegistryService }> {
  const t = await createTestApp(dialect);
  const registry = createRegistryService({
    db: t.database.handle.relaxed,
    clock: t.clock,
    maxPerChannel: 3,
    refreshMs: 3_600_000,
    defaultBundleId: 'com.example.doorbell',
  });
  return { t, registry };
}

/**
 * Registrations issued in the same turn of the event loop: on PostgreSQL they are written by one
 * statement, and each must still get the answer, and leave the rows, it would get alone.
 */
describe.each(testDialects())('registrations arriving together on %s', (dialect) => {
  let t: TestApp;
  let registry: RegistryService;
  beforeAll(async () => {
    ({ t, registry } = await setUp(dialect));
  });
  afterAll(async () => t.close());

  const sessionOf = (user: { id: number }) => latestSession(t, user);
  const rowsOf = (userId: number) => registrationsOf(t, userId);

  it('keeps each user at the limit when many new tokens arrive at once, newest kept', async () => {
    const users = await Promise.all([1, 2, 3, 4].map(() => registerUser(t.app)));
    const sessions = await Promise.all(users.map(sessionOf));
    await registry.register(sessions[0] as AuthenticatedSession, 'ring', {
      push_token: `old-${users[0]?.id}`,
      language: 'en',
    });
    t.clock.advance(1_000);
    await Promise.all(
      sessions.flatMap((session) =>
        Array.from({ length: 6 }, (_, index) =>
          registry.register(session, 'ring', { push_token: `b-${session.userId}-${index}`, language: 'en' }),
        ),
      ),
    );
    for (const user of users) {
      const rows = await rowsOf(user.id);
      expect(rows).toHaveLength(3);
      expect(rows.every((row) => row.push_token.startsWith(`b-${user.id}-`))).toBe(true);
    }
  });

  it('writes one row for a token sent twice at once, and moves a token another user holds', async () => {
    const [alice, bob] = await Promise.all([registerUser(t.app), registerUser(t.app)]);
    if (alice === undefined || bob === undefined) throw new Error('users not registered');
    const [aliceSession, bobSession] = await Promise.all([sessionOf(alice), sessionOf(bob)]);
    await registry.register(bobSession, 'message', { push_token: `phone-${bob.id}`, language: 'en' });
    t.clock.advance(1_000);

    await Promise.all([
      registry.register(aliceSession, 'message', { push_token: `twice-${alice.id}`, language: 'de' }),
      registry.register(aliceSession, 'message', { push_token: `twice-${alice.id}`, language: 'fr' }),
      registry.register(aliceSession, 'message', { push_token: `phone-${bob.id}`, language: 'it' }),
      registry.register(bobSession, 'ring', { push_token: `ring-${bob.id}`, language: 'en' }),
    ]);

    expect(await rowsOf(alice.id)).toEqual([
      {
        push_token: `phone-${bob.id}`,
        channel: 'message',
        session_id: aliceSession.sessionId,
        language: 'it',
      },
      {
        push_token: `twice-${alice.id}`,
        channel: 'message',
        session_id: aliceSession.sessionId,
        language: 'fr',
      },
    ]);
    expect(await rowsOf(bob.id)).toEqual([
      { push_token: `ring-${bob.id}`, channel: 'ring', session_id: bobSession.sessionId, language: 'en' },
    ]);
  });

  it('refuses only the registration whose session ended; the others arriving with it are stored', async () => {
    const [ended, active] = await Promise.all([registerUser(t.app), registerUser(t.app)]);
    if (ended === undefined || active === undefined) throw new Error('users not registered');
    const [endedSession, activeSession] = await Promise.all([sessionOf(ended), sessionOf(active)]);
    await t.app.inject({ method: 'POST', url: '/v1/api/user/logout', headers: { token: ended.token } });

    const outcomes = await Promise.allSettled([
      registry.register(activeSession, 'ring', { push_token: `a1-${active.id}`, language: 'en' }),
      registry.register(endedSession, 'ring', { push_token: `late-${ended.id}`, language: 'en' }),
      registry.register(activeSession, 'ring', { push_token: `a2-${active.id}`, language: 'en' }),
    ]);

    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(outcomes[1]).toMatchObject({ reason: { code: 'INVALID_TOKEN', status: 401 } });
    expect(await rowsOf(ended.id)).toEqual([]);
    expect((await rowsOf(active.id)).map((row) => row.push_token)).toEqual([
      `a1-${active.id}`,
      `a2-${active.id}`,
    ]);
  });
});

describe.each(testDialects().filter((dialect) => dialect === 'postgres'))(
  'the batched upsert on %s',
  (dialect) => {
    let t: TestApp;
    let registry: RegistryService;
    beforeAll(async () => {
      ({ t, registry } = await setUp(dialect));
    });
    afterAll(async () => t.close());

    it('answers each registration: added (with the count), updated, or held by another user', async () => {
      const [alice, bob] = await Promise.all([registerUser(t.app), registerUser(t.app)]);
      if (alice === undefined || bob === undefined) throw new Error('users not registered');
      const [aliceSession, bobSession] = await Promise.all([latestSession(t, alice), latestSession(t, bob)]);
      await registry.register(aliceSession, 'ring', { push_token: `kept-${alice.id}`, language: 'en' });
      await registry.register(bobSession, 'ring', { push_token: `bobs-${bob.id}`, language: 'en' });
      t.clock.advance(1_000);
      const now = t.clock.now();
      const row = (pushToken: string) => ({
        user_id: alice.id,
        session_id: aliceSession.sessionId,
        channel: 'ring' as const,
        push_token: pushToken,
        language: 'en',
        dev: 0,
        bundleid: 'com.example.doorbell',
        os: 'IOS',
        os_token: '',
        push_platform: '',
        phone_model: '',
        provider: 'apns',
        provider_token: pushToken,
        apns_environment: 'production',
        created_at: now,
        updated_at: now,
      });

      const results = await upsertOwnRegistrations(
        t.database.handle.relaxed,
        [row(`new-a-${alice.id}`), row(`kept-${alice.id}`), row(`bobs-${bob.id}`), row(`new-b-${alice.id}`)],
        Number.MAX_SAFE_INTEGER,
      );

      expect(results).toEqual([
        { createdAt: now, rowsAfter: 3 },
        { createdAt: now - 1_000 },
        undefined,
        { createdAt: now, rowsAfter: 3 },
      ]);
      expect((await registrationsOf(t, bob.id)).map((row) => row.push_token)).toEqual([`bobs-${bob.id}`]);
    });
  },
);
