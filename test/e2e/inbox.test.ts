import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scriptedProvider } from '../fakes/scripted-provider.js';
import { createTestApp, json, registerUser, type TestApp, testDialects } from '../helpers/app.js';
import { eventually } from '../helpers/wait.js';

interface InboxEntry {
  delivery_id: string;
  notification_id: string;
  provider: string;
  request: { url: string; body: string };
}

const bundle = 'com.example.inbox';

describe.each(testDialects())('an app inbox on %s', (dialect) => {
  let t: TestApp;
  let adminKey: string;
  let sendKey: string;
  const fcm = scriptedProvider('fcm');

  beforeAll(async () => {
    t = await createTestApp(
      dialect,
      { WORKER_POLL_MS: '20' },
      { catalogue: { fcm: fcm.module }, worker: true },
    );
    adminKey = (await t.services.apiKeys.create('admin', ['admin'])).key;
    sendKey = (await t.services.apiKeys.create('doorbell cloud', ['send'])).key;
  });
  afterAll(async () => t.close());

  const inbox = (bundleid: string, key = adminKey) =>
    t.app.inject({
      method: 'GET',
      url: `/v1/admin/apps/${bundleid}/inbox`,
      headers: { authorization: `Bearer ${key}` },
    });
  const putApp = async (bundleid: string) => {
    const response = await t.app.inject({
      method: 'PUT',
      url: `/v1/admin/apps/${bundleid}`,
      headers: { authorization: `Bearer ${adminKey}` },
      payload: { name: 'Doorbell', mode: 'inbox' },
    });
    expect(response.statusCode, response.body).toBe(201);
  };

  it('shows the exact provider request of what an inbox-mode app was sent', async () => {
    await putApp(bundle);
    expect(json(await inbox(bundle))).toEqual([]);
    const user = await registerUser(t.app);
    const registered = await t.app.inject({
      method: 'POST',
      url: '/v1/api/user/message/token',
      headers: { token: user.token },
      payload: { bundleid: bundle, push_token: `inbox-${user.id}`, language: 'en', push_platform: 'FCM' },
    });
    expect(registered.statusCode, registered.body).toBe(201);
    const sent = await t.app.inject({
      method: 'POST',
      url: '/v1/push',
      headers: { authorization: `Bearer ${sendKey}` },
      payload: { channel: 'message', users: [user.id], bundleid: bundle, title: 'Hello' },
    });
    expect(sent.statusCode, sent.body).toBe(202);
    const entries = await eventually(async () => {
      const list = json<InboxEntry[]>(await inbox(bundle));
      return list.length > 0 ? list : undefined;
    }, 'the inbox entry');
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      notification_id: json<{ id: string }>(sent).id,
      provider: 'fcm',
      request: { url: `https://fcm.invalid/inbox-${user.id}` },
    });
    expect(fcm.sent).toEqual([]);
  });

  it('answers 404 for an app that does not exist, as for one that was deleted', async () => {
    const unknown = await inbox('com.example.nosuchapp');
    expect(unknown.statusCode).toBe(404);
    expect(json(unknown)).toEqual({ code: 'NOT_FOUND', message: 'no data error' });

    await putApp('com.example.inbox.gone');
    const deleted = await t.app.inject({
      method: 'DELETE',
      url: '/v1/admin/apps/com.example.inbox.gone',
      headers: { authorization: `Bearer ${adminKey}` },
    });
    expect(deleted.statusCode).toBe(200);
    expect((await inbox('com.example.inbox.gone')).statusCode).toBe(404);
  });

  it('is for admin keys only', async () => {
    const response = await inbox(bundle, sendKey);
    expect(response.statusCode).toBe(403);
    expect((await inbox(bundle, 'bh_not_a_key')).statusCode).toBe(401);
  });
});
