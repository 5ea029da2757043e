import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { Dialect } from '../../src/db/database.js';
import { createTestApp, json, type TestApp, type TestAppOptions } from './app.js';
import type { ManualClock } from './clock.js';
import { type NotificationView, pushApi } from './push.js';
import { eventually } from './wait.js';

/**
 * A test app running the delivery worker in process (polling every 20 ms) on `clock`, and an
 * admin API key for it: what the end-to-end tests of a push provider start with.
 */
export async function startDeliveryApp(
  dialect: Dialect,
  clock: ManualClock,
  environment: Record<string, string> = {},
  options: TestAppOptions = {},
): Promise<{ t: TestApp; key: string }> {
  const t = await createTestApp(
    dialect,
    { WORKER_POLL_MS: '20', ...environment },
    { worker: true, clock, ...options },
  );
  const key = (await t.services.apiKeys.create('admin', ['admin'])).key;
  return { t, key };
}

/**
 * The calls a provider's end-to-end test makes: the admin API (apps), the send API and a
 * phone's registration calls. `t` and `key` are read when called (they are made in `beforeAll`).
 */
export function deliveryCalls(current: () => { t: TestApp; key: string }) {
  const app = () => current().t.app;
  const api = () => pushApi(app(), current().key);
  const admin = () => ({ authorization: `Bearer ${current().key}` });
  return {
    /** The admin API key's headers. */
    admin,
    /**
     * Creates or replaces an app named Doorbell, live, with `fields` (e.g. `{huawei: settings}`);
     * expects `expected` (a status, or one of several; `null`: any).
     */
    async putApp(
      bundleid: string,
      fields: Record<string, unknown>,
      expected: number | readonly number[] | null = 201,
    ): Promise<LightMyRequestResponse> {
      const response = await app().inject({
        method: 'PUT',
        url: `/v1/admin/apps/${bundleid}`,
        headers: admin(),
        payload: { name: 'Doorbell', mode: 'live', ...fields },
      });
      if (typeof expected === 'number') expect(response.statusCode, response.body).toBe(expected);
      else if (expected !== null) expect(expected, response.body).toContain(response.statusCode);
      return response;
    },
    /** An app as the admin API shows it. */
    getApp: async <T>(bundleid: string): Promise<T> =>
      json<T>(await app().inject({ method: 'GET', url: `/v1/admin/apps/${bundleid}`, headers: admin() })),
    send: (payload: Record<string, unknown>) => api().send(payload),
    settled: (id: string, boundMs?: number) => api().settled(id, boundMs),
    read: (id: string) => api().read(id),
    /** Waits until the notification's view passes `check` (`what`: for the timeout's message). */
    until: (id: string, what: string, check: (view: NotificationView) => boolean) =>
      eventually(async () => {
        const view = await api().read(id);
        return check(view) ? view : undefined;
      }, what),
    /** A phone's registration call (`payload` as JSON), expecting 201. */
    async register(userToken: string, url: string, payload: Record<string, unknown>): Promise<void> {
      const response = await app().inject({
        method: 'POST',
        url,
        headers: { token: userToken, 'content-type': 'application/json' },
        payload,
      });
      expect(response.statusCode, response.body).toBe(201);
    },
    /** A field of each registration the user has on `url` (the GET of a registration call). */
    async registered(userToken: string, url: string, field: 'os_token' | 'push_token' = 'os_token') {
      const rows = json<Array<Record<'os_token' | 'push_token', string>>>(
        await app().inject({ method: 'GET', url, headers: { token: userToken } }),
      );
      return rows.map((row) => row[field]);
    },
  };
}

/**
 * The registration payload of an Android phone of a maker's push service (the manual's call):
 * the maker's token in `os_token`, the app's own socket token in `push_token`.
 */
export function makerRegistration(
  pushPlatform: string,
  bundleid: string,
  osToken: string,
  fields: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    push_token: `socket-${osToken}`,
    language: 'de-DE',
    bundleid,
    os: 'Android',
    push_platform: pushPlatform,
    os_token: osToken,
    ...fields,
  };
}
