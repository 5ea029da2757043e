import { expect } from 'vitest';
import type { TypedApp } from '../../src/http/typed-app.js';
import { eventually } from './wait.js';

export interface DeliveryView {
  id: string;
  user_id: number;
  provider: string;
  token: string;
  status: string;
  reason: string | null;
  attempts: number;
  provider_message_id: string | null;
}

export interface NotificationView {
  id: string;
  state: string;
  targets: number;
  counts: Record<string, number>;
  deliveries: DeliveryView[];
}

/** The send API as a device cloud uses it, with one API key. */
export function pushApi(app: TypedApp, key: string) {
  const authorization = `Bearer ${key}`;
  const read = async (id: string): Promise<NotificationView> =>
    (
      await app.inject({ method: 'GET', url: `/v1/push/${id}`, headers: { authorization } })
    ).json() as NotificationView;
  return {
    /** Sends and expects the 202; returns the notification id. */
    async send(payload: Record<string, unknown>): Promise<string> {
      const response = await app.inject({
        method: 'POST',
        url: '/v1/push',
        headers: { authorization },
        payload,
      });
      expect(response.statusCode, response.body).toBe(202);
      return (response.json() as { id: string }).id;
    },
    read,
    /** Waits until no delivery of the notification is pending (`boundMs`: see `eventually`). */
    settled: (id: string, boundMs?: number) =>
      eventually(
        async () => {
          const view = await read(id);
          return view.state === 'pending' ? undefined : view;
        },
        `notification ${id} to settle`,
        boundMs,
      ),
  };
}
