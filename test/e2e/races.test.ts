import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegistryService } from '../../src/registry/registry.service.js';
import { createTestApp, registerUser, type TestApp, testDialects } from '../helpers/app.js';

describe.each(testDialects())('requests racing a session’s end on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(async () => t.close());

  it('a registration authenticated just before logout is refused with 401, not stored', async () => {
    const user = await registerUser(t.app);
    const db = t.database.handle.db;
    const { id: sessionId } = await db
      .selectFrom('sessions')
      .select('id')
      .where('user_id', '=', user.id)
      .executeTakeFirstOrThrow();
    const authenticated = { userId: user.id, sessionId, validUntil: t.clock.now() + 60_000 };
    await t.app.inject({ method: 'POST', url: '/v1/api/user/logout', headers: { token: user.token } });

    const registry = createRegistryService({
      db,
      clock: t.clock,
      maxPerChannel: 100,
      refreshMs: 3_600_000,
      defaultBundleId: 'x',
    });
    await expect(
      registry.register(authenticated, 'ring', { push_token: `late-${user.id}`, language: 'en' }),
    ).rejects.toMatchObject({ code: 'INVALID_TOKEN', status: 401 });
    expect(await db.selectFrom('registrations').selectAll().where('user_id', '=', user.id).execute()).toEqual(
      [],
    );
  });
});
