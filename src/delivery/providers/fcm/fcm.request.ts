import type { ProviderRequest, PushMessage } from '../adapter.js';

export interface FcmRequestSettings {
  projectId: string;
  /** Base URL of the send API, e.g. `https://fcm.googleapis.com` (a trailing slash is ignored). */
  baseUrl: string;
}

/** FCM's ceiling (and default) for `android.ttl`: four weeks. */
export const FCM_MAX_TTL_SECONDS = 28 * 24 * 3600;

/** The seconds left until `expiresAt`, rounded down, within 0 … four weeks. */
export function remainingTtlSeconds(expiresAt: number, now: number): number {
  const seconds = Math.floor((expiresAt - now) / 1000);
  if (!Number.isFinite(seconds) || seconds <= 0) return 0;
  return Math.min(seconds, FCM_MAX_TTL_SECONDS);
}

/** FCM rejects anything but strings in `data`; the type says so, the runtime makes sure. */
function stringData(data: Record<string, string>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(data ?? {})) {
    if (value === undefined || value === null) continue;
    result[key] = typeof value === 'string' ? value : String(value);
  }
  return result;
}

/** Copies the defined entries only: `JSON.stringify` would drop them anyway, this keeps objects tidy. */
function defined<T extends Record<string, unknown>>(entries: T): Partial<T> {
  const result: Partial<T> = {};
  for (const [key, value] of Object.entries(entries)) {
    if (value !== undefined) result[key as keyof T] = value as T[keyof T];
  }
  return result;
}

/**
 * The FCM HTTP v1 request for one message, without the `Authorization` header (the adapter
 * adds the access token; inbox mode stores this request as it is). Pure: `now` (Unix ms)
 * only turns `expiresAt` into `android.ttl`.
 *
 * - ring: a data-only message (the app posts its own call notification): `data` holds the
 *   message's data plus `title`, `body` and `channel: "ring"`; `android.priority` HIGH.
 * - message: `notification {title, body}` + `data`; `android.priority` HIGH too (FCM's own
 *   default for notification messages, which are always user-visible, so FCM does not
 *   demote the app; NORMAL would hold them back on a dozing phone), and
 *   `android.notification {channel_id, sound, tag, notification_count}`.
 * Both: `android.ttl` = the seconds left until `expiresAt` (≥ "0s"), `android.collapse_key` =
 * `collapseId`.
 */
export function buildFcmRequest(
  message: PushMessage,
  settings: FcmRequestSettings,
  now: number,
): ProviderRequest {
  const android: Record<string, unknown> = {
    priority: 'HIGH',
    ttl: `${remainingTtlSeconds(message.expiresAt, now)}s`,
    ...defined({ collapse_key: message.collapseId }),
  };
  const payload: Record<string, unknown> = { token: message.token };

  if (message.channel === 'ring') {
    payload.data = {
      ...stringData(message.data),
      ...defined({ title: message.title, body: message.body }),
      channel: 'ring',
    };
  } else {
    const notification = defined({ title: message.title, body: message.body });
    if (Object.keys(notification).length > 0) payload.notification = notification;
    const data = stringData(message.data);
    if (Object.keys(data).length > 0) payload.data = data;
    const androidNotification = defined({
      channel_id: message.androidChannelId,
      sound: message.sound,
      tag: message.collapseId,
      notification_count: message.badge,
    });
    if (Object.keys(androidNotification).length > 0) android.notification = androidNotification;
  }
  payload.android = android;

  return {
    method: 'POST',
    url: `${settings.baseUrl.replace(/\/+$/, '')}/v1/projects/${settings.projectId}/messages:send`,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify({ message: payload }),
  };
}
