import { randomBytes, randomUUID } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { createSecretBox } from '../../src/crypto/secret-box.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import * as renameToApnsJwts from '../../src/db/migrations/2026_12_08_009_apns_jwts.js';
import { createDatabaseApnsJwtStore } from '../../src/delivery/apns-jwt-store.js';
import type { PushAdapter } from '../../src/delivery/providers/adapter.js';
import { createApnsAdapter } from '../../src/delivery/providers/apns/apns.adapter.js';
import { testApnsTokenCredentials } from '../fakes/apns-fixtures.js';
import { type FakeApns, startFakeApns } from '../fakes/apns-server.js';
import { createTestDatabase, type TestDatabase, testDialects } from '../helpers/app.js';
import { ManualClock } from '../helpers/clock.js';

const MINUTE = 60_000;

describe.each(testDialects())('the APNs JWT kept in the database (%s)', (dialect) => {
  const box = createSecretBox(randomBytes(32));
  let clock: ManualClock;
  let database: TestDatabase;
  let fake: FakeApns;
  const adapters: PushAdapter[] = [];

  async function setUp() {
    clock = new ManualClock();
    database = await createTestDatabase(dialect);
    fake = await startFakeApns({ clock, tokenUpdateMinIntervalMs: 20 * MINUTE });
  }

  afterEach(async () => {
    await Promise.all(adapters.splice(0).map((adapter) => adapter.close()));
    await fake.close();
    await database.drop();
  });

  /** A process: its own store (and read memo) and adapter, on the shared database. */
  function startProcess() {
    const store = createDatabaseApnsJwtStore({ db: database.handle.db, box, clock });
    const adapter = createApnsAdapter(testApnsTokenCredentials(fake), { clock, providerTokens: store });
    adapters.push(adapter);
    return { store, adapter };
  }

  const send = async (adapter: PushAdapter) => {
    const [result] = await adapter.send([
      {
        deliveryId: randomUUID(),
        token: randomBytes(32).toString('hex'),
        channel: 'message',
        bundleId: 'com.example.doorbell',
        environment: 'production',
        title: 'Motion',
        body: 'At the front door',
        data: {},
        sound: undefined,
        badge: undefined,
        collapseId: undefined,
        androidChannelId: undefined,
        expiresAt: clock.now() + MINUTE,
      },
    ]);
    return result;
  };

  const tooManyUpdates = () =>
    fake.received.filter((request) => request.answer.reason === 'TooManyProviderTokenUpdates');

  it('signs one JWT for processes that start together, and one new one between them past the refresh age', async () => {
    await setUp();
    const processes = [startProcess(), startProcess(), startProcess(), startProcess()];
    const sendAll = () => Promise.all(processes.map(({ adapter }) => send(adapter)));
    expect((await sendAll()).every((result) => result?.ok === true)).toBe(true);
    expect(fake.distinctJwts()).toBe(1);
    clock.advance(30 * MINUTE);
    expect((await sendAll()).every((result) => result?.ok === true)).toBe(true);
    expect(fake.distinctJwts()).toBe(1);
    clock.advance(25 * MINUTE);
    expect((await sendAll()).every((result) => result?.ok === true)).toBe(true);
    expect(fake.distinctJwts()).toBe(2);
    expect(tooManyUpdates()).toEqual([]);
  });

  it('gives a process that starts later, or again, the token already in use (no Redis needed)', async () => {
    await setUp();
    expect((await send(startProcess().adapter))?.ok).toBe(true);
    clock.advance(10 * MINUTE);
    // A worker added later, or the same one restarted: it has never seen the token.
    expect((await send(startProcess().adapter))?.ok).toBe(true);
    clock.advance(9 * MINUTE);
    expect((await send(startProcess().adapter))?.ok).toBe(true);
    expect(fake.distinctJwts()).toBe(1);
    expect(tooManyUpdates()).toEqual([]);
  });

  it('lets one of many simultaneous replacements win, and every caller answers the winner', async () => {
    await setUp();
    const stores = Array.from({ length: 8 }, () => startProcess().store);
    const tokens = stores.map((_, index) => ({ jwt: `jwt-${index}`, issuedAt: clock.now() }));
    const winners = await Promise.all(
      stores.map((store, index) =>
        store.replace('key', undefined, tokens[index] ?? { jwt: '', issuedAt: 0 }),
      ),
    );
    expect(new Set(winners.map((winner) => winner.jwt)).size).toBe(1);
    const [winner] = winners;
    // A replacement that expects an outdated token loses to the stored one.
    const later = { jwt: 'jwt-later', issuedAt: clock.now() + MINUTE };
    expect(await stores[1]?.replace('key', { jwt: 'jwt-outdated', issuedAt: 0 }, later)).toEqual(winner);
    expect(await stores[2]?.replace('key', winner, later)).toEqual(later);
    clock.advance(MINUTE);
    for (const store of stores) expect(await store.get('key')).toEqual(later);
  });

  it('keeps the JWT in use across the migration that renames provider_tokens to apns_jwts', async () => {
    await setUp();
    expect((await send(startProcess().adapter))?.ok).toBe(true);
    // The database as it was before the rename, with the JWT in provider_tokens.
    const db = database.handle.db;
    await renameToApnsJwts.down(db as Kysely<unknown>);
    await sql`delete from kysely_migration where name = '2026_12_08_009_apns_jwts'`.execute(db);
    const before = await sql<{ key: string }>`select key from provider_tokens`.execute(db);
    expect(before.rows).toHaveLength(1);

    await migrateToLatest(db, { schema: 'schema' in database.config ? database.config.schema : undefined });
    clock.advance(10 * MINUTE);
    expect((await send(startProcess().adapter))?.ok).toBe(true);
    expect(fake.distinctJwts()).toBe(1);
    expect(await db.selectFrom('apns_jwts').select('key').execute()).toEqual(before.rows);
  });

  it('keeps the JWT sealed at rest', async () => {
    await setUp();
    expect((await send(startProcess().adapter))?.ok).toBe(true);
    const jwt = fake.received[0]?.jwt ?? '';
    expect(jwt).not.toBe('');
    const rows = await database.handle.db.selectFrom('apns_jwts').selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(jwt);
    expect(JSON.stringify(rows)).not.toContain(jwt.split('.')[2]);
    expect(box.open(rows[0]?.sealed_jwt ?? '')).toBe(jwt);
  });

  it('keeps sending with the token it last read while the database does not answer', async () => {
    await setUp();
    const { store, adapter } = startProcess();
    expect((await send(adapter))?.ok).toBe(true);
    const key =
      (await database.handle.db.selectFrom('apns_jwts').select('key').executeTakeFirst())?.key ?? '';
    const seen = await store.get(key);
    clock.advance(MINUTE);
    await database.drop();
    expect(await store.get(key)).toEqual(seen);
    expect((await send(adapter))?.ok).toBe(true);
    expect(fake.distinctJwts()).toBe(1);
    // A process that never read it has nothing to fall back on: its sends are retried later.
    expect(await send(startProcess().adapter)).toMatchObject({
      ok: false,
      reason: 'provider_token_unavailable',
    });
    database = await createTestDatabase(dialect);
  });
});
