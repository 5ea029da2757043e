import { createHash } from 'node:crypto';
import type { ProviderRequest, PushMessage } from '../adapter.js';

/** The send call: v3 (v2 takes one package name only and is never used). */
export const XIAOMI_SEND_PATH = '/v3/message/regid';
/** regIds per request: the limit usually quoted for MiPush (reference/providers.md §4.3). */
export const XIAOMI_MAX_REGIDS = 1000;
/** The longest a private (私信) message is kept for an offline phone. */
export const XIAOMI_MAX_TTL_MS = 10 * 24 * 3600 * 1000;
/** MiPush's limits on the notification text (title < 50, description < 128 characters). */
const MAX_TITLE_CHARS = 49;
const MAX_DESCRIPTION_CHARS = 127;

export interface XiaomiRequestSettings {
  /** Base URL, e.g. `https://api.xmpush.xiaomi.com` (a trailing slash is ignored). */
  baseUrl: string;
  packageName: string;
  ringChannelId: string;
  messageChannelId: string;
}

/** MiPush's static credential: the AppSecret, on every request. */
export function xiaomiAuthorization(appSecret: string): string {
  return `key=${appSecret}`;
}

function clip(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/** The milliseconds left until `expiresAt`, at least 1, at most MiPush's offline maximum. */
export function remainingTtlMs(expiresAt: number, now: number): number {
  const left = Math.floor(expiresAt - now);
  if (!Number.isFinite(left) || left < 1) return 1;
  return Math.min(left, XIAOMI_MAX_TTL_MS);
}

/**
 * `notify_id`: MiPush shows one notification per id, a new one replacing the old. The collapse
 * id when there is one (a ring and its cancel share it), else the content, so that different
 * messages stand side by side and batched messages, identical but for the token, share it.
 */
export function notifyIdOf(message: PushMessage): number {
  const key =
    message.collapseId ??
    JSON.stringify([message.channel, message.title ?? null, message.body ?? null, message.data]);
  return createHash('sha256').update(key).digest().readUInt32BE(0) & 0x7fffffff;
}

/**
 * The form fields of one MiPush send (reference/providers.md §4.3, §4.6), for the given regIds:
 * - both: `restricted_package_name`, `payload` = JSON of `data`, `time_to_live` = ms left until
 *   `expiresAt`, `notify_id`, `extra.channel_id` = the app's channel for the channel;
 * - ring: the private call channel, `notify_type=-1` (sound, vibration and lights),
 *   `extra.only_send_once=1` (never kept for a phone that comes online after the call);
 * - a message or ring with text is a notification (`pass_through=0`) with `title` and
 *   `description` (each falls back on the other; MiPush needs both). One without any text
 *   (a ring's cancel) is pass-through (`pass_through=1`): data for the app alone.
 */
export function xiaomiFormFields(
  message: PushMessage,
  settings: XiaomiRequestSettings,
  now: number,
  tokens: readonly string[] = [message.token],
): URLSearchParams {
  const ring = message.channel === 'ring';
  const form = new URLSearchParams();
  form.set('registration_id', tokens.join(','));
  form.set('restricted_package_name', settings.packageName);
  const title = message.title ?? message.body;
  const description = message.body ?? message.title;
  if (title !== undefined && title !== '' && description !== undefined && description !== '') {
    form.set('pass_through', '0');
    form.set('title', clip(title, MAX_TITLE_CHARS));
    form.set('description', clip(description, MAX_DESCRIPTION_CHARS));
  } else {
    form.set('pass_through', '1');
  }
  form.set('payload', JSON.stringify(message.data ?? {}));
  form.set('time_to_live', String(remainingTtlMs(message.expiresAt, now)));
  form.set('notify_id', String(notifyIdOf(message)));
  if (ring) form.set('notify_type', '-1');
  form.set('extra.channel_id', ring ? settings.ringChannelId : settings.messageChannelId);
  if (ring) form.set('extra.only_send_once', '1');
  return form;
}

/**
 * The exact request MiPush receives for one message (or, with `tokens`, for the same message
 * to many phones), without `Authorization` (the adapter adds the AppSecret; inbox mode stores
 * this request as it is). Pure: `now` only turns `expiresAt` into `time_to_live`.
 */
export function buildXiaomiRequest(
  message: PushMessage,
  settings: XiaomiRequestSettings,
  now: number,
  tokens?: readonly string[],
): ProviderRequest {
  return {
    method: 'POST',
    url: `${settings.baseUrl.replace(/\/+$/, '')}${XIAOMI_SEND_PATH}`,
    headers: {
      'content-type': 'application/x-www-form-urlencoded;charset=UTF-8',
      accept: 'application/json',
    },
    body: xiaomiFormFields(message, settings, now, tokens).toString(),
  };
}
