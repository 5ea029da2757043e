import type { ProviderRequest, PushMessage } from '../adapter.js';
import type { HuaweiSettings } from './huawei.config.js';

/** Push Kit's ceiling for `android.ttl`: 15 days. */
export const HUAWEI_MAX_TTL_SECONDS = 15 * 24 * 3600;
/** Tokens one send request may carry. */
export const HUAWEI_MAX_TOKENS = 1000;

export type HuaweiRequestSettings = Pick<
  HuaweiSettings,
  'appId' | 'baseUrl' | 'messageChannelId' | 'ringChannelId' | 'importance' | 'category'
>;

/**
 * The seconds left until `expiresAt`, as Push Kit writes a TTL: at least "1s" (a TTL in the
 * past is refused with 80100004; the worker never sends an expired message), at most 15 days.
 */
export function huaweiTtl(expiresAt: number, now: number): string {
  const seconds = Math.floor((expiresAt - now) / 1000);
  if (!Number.isFinite(seconds) || seconds < 1) return '1s';
  return `${Math.min(seconds, HUAWEI_MAX_TTL_SECONDS)}s`;
}

/** `message.data` is one string: the data map as JSON, values as strings. */
function dataString(entries: Record<string, unknown>): string | undefined {
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(entries)) {
    if (value !== undefined && value !== null) result[key] = String(value);
  }
  return Object.keys(result).length > 0 ? JSON.stringify(result) : undefined;
}

function defined(entries: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(entries).filter(([, value]) => value !== undefined));
}

/**
 * The Push Kit request for messages that differ only by token (at most 1,000 of them), without
 * the `Authorization` header. Pure: `now` only turns `expiresAt` into `android.ttl`.
 *
 * - ring: a data message (`data` only: the app posts its own call screen) with the message's
 *   data plus `title`, `body`, `channel: "ring"` and the call channel `channel_id` when set;
 *   `android.urgency` HIGH and `android.category` VOIP (both need Huawei's approval).
 * - message: a notification message, `android.notification {title, body, click_action: open
 *   the app (type 3), channel_id, importance, tag = collapseId}` + `data`, and the app's
 *   self-classification `android.category` when set.
 * Both: `android.ttl` = the seconds left until `expiresAt`.
 */
export function buildHuaweiRequest(
  messages: readonly PushMessage[],
  settings: HuaweiRequestSettings,
  now: number,
): ProviderRequest {
  const [first] = messages;
  if (first === undefined) throw new RangeError('a Push Kit request needs at least one message');
  const android: Record<string, unknown> = { ttl: huaweiTtl(first.expiresAt, now) };
  const payload: Record<string, unknown> = {};

  if (first.channel === 'ring') {
    payload.data = dataString({
      ...first.data,
      ...defined({ title: first.title, body: first.body, channel_id: settings.ringChannelId }),
      channel: 'ring',
    });
    Object.assign(android, { urgency: 'HIGH', category: 'VOIP' });
  } else {
    const data = dataString(first.data);
    if (data !== undefined) payload.data = data;
    Object.assign(android, defined({ category: settings.category }));
    const sound = first.sound === undefined || first.sound === 'default' ? undefined : first.sound;
    android.notification = defined({
      title: first.title,
      body: first.body,
      click_action: { type: 3 },
      channel_id: settings.messageChannelId ?? first.androidChannelId,
      importance: settings.importance,
      tag: first.collapseId,
      // A custom sound is a file in the app's res/raw.
      ...(sound !== undefined ? { sound: `/raw/${sound}`, default_sound: false } : {}),
    });
  }
  payload.android = android;
  payload.token = messages.map((message) => message.token);

  return {
    method: 'POST',
    url: `${settings.baseUrl.replace(/\/+$/, '')}/v1/${settings.appId}/messages:send`,
    headers: { 'content-type': 'application/json;charset=utf-8' },
    body: JSON.stringify({ validate_only: false, message: payload }),
  };
}
