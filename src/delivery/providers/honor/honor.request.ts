import type { ProviderRequest, PushMessage } from '../adapter.js';
import type { HonorSettings } from './honor.config.js';

/** Tokens one `sendMessage` call may carry (the Huawei-family limit Honor's API shares, §3.3). */
export const HONOR_MAX_TOKENS = 1000;
/** Honor's ceiling for `android.ttl`: 15 days. */
export const HONOR_MAX_TTL_SECONDS = 15 * 24 * 3600;

export type HonorRequestSettings = Pick<
  HonorSettings,
  | 'appId'
  | 'baseUrl'
  | 'ringChannelId'
  | 'messageChannelId'
  | 'ringImportance'
  | 'messageImportance'
  | 'ringCategory'
>;

/** `sendMessage` on `baseUrl` for the app. */
export function honorSendUrl(settings: Pick<HonorSettings, 'appId' | 'baseUrl'>): string {
  return `${settings.baseUrl.replace(/\/+$/, '')}/api/v1/${encodeURIComponent(settings.appId)}/sendMessage`;
}

/** `android.ttl`: the whole seconds left until `expiresAt`, at least 1, at most 15 days. */
export function honorTtl(expiresAt: number, now: number): string {
  const seconds = Math.floor((expiresAt - now) / 1000);
  return `${Number.isFinite(seconds) ? Math.min(Math.max(seconds, 1), HONOR_MAX_TTL_SECONDS) : 1}s`;
}

function present<T extends Record<string, unknown>>(entries: T): Partial<T> {
  return Object.fromEntries(Object.entries(entries).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/**
 * The `sendMessage` request for messages that differ only by token (one message, or a batch of
 * at most `HONOR_MAX_TOKENS`), without `Authorization` (the adapter adds the access token;
 * inbox mode stores the request as it is). `now` (Unix ms) is the `timestamp` header and turns
 * `expiresAt` into `android.ttl`.
 *
 * - ring: a notification on the app's call channel (`ring_channel_id`) with the ring's
 *   importance (NORMAL unless configured) and, when Honor granted one, `android.category`;
 *   `data` (a JSON string) carries the ring for the app: its data, title, body and
 *   `channel: "ring"`. The TTL is what is left of the ring's life (30 s by default).
 * - message: a notification on `message_channel_id` with the message importance; its data.
 * Both: `clickAction` opens the app, `tag` = `collapseId` (a newer one replaces it). With
 * neither title nor body there is nothing to show: a pass-through (data) message.
 */
export function buildHonorRequest(
  messages: readonly PushMessage[],
  settings: HonorRequestSettings,
  now: number,
): ProviderRequest {
  const [first] = messages;
  if (first === undefined) throw new RangeError('buildHonorRequest needs at least one message');
  const ring = first.channel === 'ring';
  const title = first.title ?? first.body;
  const body = first.body ?? first.title;

  const data: Record<string, string> = { ...first.data };
  if (ring) Object.assign(data, present({ title: first.title, body: first.body }), { channel: 'ring' });

  const android: Record<string, unknown> = { ttl: honorTtl(first.expiresAt, now) };
  if (ring && settings.ringCategory !== undefined) android.category = settings.ringCategory;
  if (title !== undefined && body !== undefined) {
    android.notification = {
      title,
      body,
      clickAction: { type: 3 },
      importance: ring ? settings.ringImportance : settings.messageImportance,
      ...present({
        channelId: ring ? settings.ringChannelId : settings.messageChannelId,
        tag: first.collapseId,
      }),
    };
  }

  const payload: Record<string, unknown> = { token: messages.map((message) => message.token) };
  if (Object.keys(data).length > 0) payload.data = JSON.stringify(data);
  payload.android = android;

  return {
    method: 'POST',
    url: honorSendUrl(settings),
    headers: { 'content-type': 'application/json; charset=UTF-8', timestamp: String(now) },
    body: JSON.stringify(payload),
  };
}
