import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { createSecretBox } from '../../src/crypto/secret-box.js';
import { scriptedProvider } from '../fakes/scripted-provider.js';
import {
  createTestDatabase,
  createTestServices,
  registerUser,
  type TestDatabase,
  testDialects,
} from '../helpers/app.js';
import { ManualClock } from '../helpers/clock.js';
import { pushApi } from '../helpers/push.js';

// Only PostgreSQL runs an API process and a worker process on one database.
describe.skipIf(!testDialects().includes('postgres'))(
  'an API process and a worker process on PostgreSQL',
  () => {
    let database: TestDatabase;
    const provider = scriptedProvider('apns');
    const closers: Array<() => Promise<void>> = [];

    beforeAll(async () => {
      database = await createTestDatabase('postgres');
    });
    afterAll(async () => {
      for (const close of closers.reverse()) await close();
      await database.drop();
    });

    it('hands a ring to the worker at once, not at the next poll', async () => {
      const clock = new ManualClock();
      const box = createSecretBox(randomBytes(32));
      // A poll once a minute: only the wake-up can deliver within the test's bounds.
      const environment = { WORKER_POLL_MS: '60000' };
      const apiServices = createTestServices(
        database,
        { ...environment, ROLE: 'api' },
        { clock, box, catalogue: { apns: provider.module } },
      );
      const api = await buildApp(apiServices.config, apiServices);
      closers.push(() => api.close());
      const workerServices = createTestServices(
        database,
        { ...environment, ROLE: 'worker' },
        { clock, box, catalogue: { apns: provider.module } },
      );
      closers.push(workerServices.startWorker());
      // Let the worker's first look at the empty table pass, and its listener connect.
      await new Promise((resolve) => setTimeout(resolve, 500));

      const key = (await apiServices.apiKeys.create('admin', ['admin'])).key;
      await api.inject({
        method: 'PUT',
        url: '/v1/admin/apps/com.example.split',
        headers: { authorization: `Bearer ${key}` },
        payload: { apns: { secret: 'x' } },
      });
      const user = await registerUser(api);
      await api.inject({
        method: 'POST',
        url: '/v1/api/user/token',
        headers: { token: user.token },
        payload: { push_token: `split-${user.id}`, language: 'en', bundleid: 'com.example.split' },
      });
      const push = pushApi(api, key);
      const view = await push.settled(await push.send({ channel: 'ring', users: [user.id] }));
      expect(view.deliveries[0]).toMatchObject({ status: 'sent' });
      expect(provider.sent.map((message) => message.token)).toEqual([`split-${user.id}`]);
    }, 30_000);
  },
);
