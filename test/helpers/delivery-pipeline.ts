/** What the delivery pipeline's e2e tests share: an app with scripted APNs and FCM, its keys, its send calls. */
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import type { Dialect } from '../../src/db/database.js';
import { scriptedProvider } from '../fakes/scripted-provider.js';
import { createTestApp, json, type TestApp } from './app.js';
import type { NotificationView } from './push.js';
import { eventually } from './wait.js';

/** A notification as `GET /v1/push/{id}` shows it. */
export type Notification = NotificationView;

export const bundle = 'com.example.doorbell';

/** The app of the running describe block, with a worker polling every 20 ms. */
export let t: TestApp;
export let apns: ReturnType<typeof scriptedProvider>;
export let fcm: ReturnType<typeof scriptedProvider>;
export let adminKey: string;
export let sendKey: string;

/** An app with APNs and FCM credentials for `bundle`; the providers forget what they sent before each test. */
export function useDeliveryTestbed(dialect: Dialect): void {
  beforeAll(async () => {
    apns = scriptedProvider('apns');
    fcm = scriptedProvider('fcm');
    t = await createTestApp(
      dialect,
      { WORKER_POLL_MS: '20' },
      { catalogue: { apns: apns.module, fcm: fcm.module }, worker: true },
    );
    adminKey = (await t.services.apiKeys.create('admin', ['admin'])).key;
    sendKey = (await t.services.apiKeys.create('doorbell cloud', ['send'])).key;
    const put = await t.app.inject({
      method: 'PUT',
      url: `/v1/admin/apps/${bundle}`,
      headers: { authorization: `Bearer ${adminKey}` },
      payload: {
        name: 'Doorbell',
        default_language: 'de',
        mode: 'live',
        apns: { secret: 'apns-secret-value-0123456789' },
        fcm: { secret: 's2' },
      },
    });
    expect(put.statusCode).toBe(201);
  });
  afterAll(async () => t.close());
  beforeEach(() => {
    apns.sent.length = 0;
    fcm.sent.length = 0;
  });
}

export const send = (payload: Record<string, unknown>, key = sendKey) =>
  t.app.inject({ method: 'POST', url: '/v1/push', headers: { authorization: `Bearer ${key}` }, payload });
export const read = async (id: string) =>
  json<Notification>(
    await t.app.inject({
      method: 'GET',
      url: `/v1/push/${id}`,
      headers: { authorization: `Bearer ${sendKey}` },
    }),
  );
export const settled = (id: string) =>
  eventually(async () => {
    const notification = await read(id);
    return notification.state === 'pending' ? undefined : notification;
  }, `notification ${id} to settle`);
export const registerToken = async (token: string, url: string, payload: Record<string, unknown>) => {
  const response = await t.app.inject({
    method: 'POST',
    url,
    headers: { token },
    payload: { bundleid: bundle, ...payload },
  });
  expect(response.statusCode).toBe(201);
};
