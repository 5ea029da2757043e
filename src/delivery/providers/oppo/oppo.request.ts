import { createHash } from 'node:crypto';
import type { ProviderRequest, PushMessage } from '../adapter.js';

export const OPPO_AUTH_PATH = '/server/v1/auth';
export const OPPO_UNICAST_PATH = '/server/v1/message/notification/unicast';
export const OPPO_UNICAST_BATCH_PATH = '/server/v1/message/notification/unicast_batch';
/** `messages` of one `unicast_batch` call, at most. */
export const OPPO_MAX_BATCH = 1000;
/** OPPO keeps a message for an offline phone 10 days at most. */
export const OPPO_MAX_OFFLINE_TTL_SECONDS = 10 * 24 * 3600;
const FORM = 'application/x-www-form-urlencoded;charset=UTF-8';
const TITLE_MAX = 50;
/** `content` of the standard style; the long-text style (2) takes 128. */
const CONTENT_MAX = 50;
const LONG_CONTENT_MAX = 128;

export type OppoRegion = 'cn' | 'intl';

/**
 * Which OPPO host a registration id belongs to (reference/providers.md §5.1): split at `_`, it
 * is domestic when it has one part, or when the first of two / the second of three parts is
 * `CN` (`CN_…`, `OPPO_CN_…`).
 */
export function oppoRegion(registrationId: string): OppoRegion {
  const parts = registrationId.split('_');
  if (parts.length === 1) return 'cn';
  const marker = parts.length === 2 ? parts[0] : parts[1];
  return marker?.toUpperCase() === 'CN' ? 'cn' : 'intl';
}

/** The settings a request is built from; every field may be missing in inbox mode. */
export interface OppoRequestSettings {
  url: string;
  intlUrl: string;
  ringChannelId: string | undefined;
  messageChannelId: string | undefined;
  ringCategory: string | undefined;
  messageCategory: string | undefined;
  ringNotifyLevel: number;
}

/** OPPO counts characters (code points), not bytes or UTF-16 units. */
function clip(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/** `notify_id` is an integer; the same one replaces the notification on the phone. */
export function notifyIdOf(collapseId: string): number {
  return createHash('sha256').update(collapseId).digest().readUInt32BE(0) & 0x7fffffff;
}

function defined<T extends Record<string, unknown>>(entries: T): Partial<T> {
  return Object.fromEntries(Object.entries(entries).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/**
 * One element of OPPO's `message` / `messages` form field: a notification to one registration
 * id (OPPO PUSH sends notifications only, no data messages). Pure: `now` (Unix ms) only turns
 * `expiresAt` into `off_line_ttl`.
 *
 * - ring: the app's call channel (`ring_channel_id`, `ring_category`, `notify_level` 16 by
 *   default), kept offline only until `expiresAt` (a ring with less than a second left is sent
 *   to online phones only); `action_parameters` carries the data plus `channel: "ring"`.
 * - message: the message channel and category, kept offline until `expiresAt` (≤ 10 days).
 * Both: `app_message_id` = the delivery id, so OPPO shows a retried delivery once; `notify_id`
 * from `collapseId`; a `title` over 50 characters and a `content` over 128 are cut, a `content`
 * over 50 uses the long-text style.
 */
export function buildOppoMessage(
  message: PushMessage,
  settings: OppoRequestSettings,
  now: number,
): Record<string, unknown> {
  const ring = message.channel === 'ring';
  const seconds = Math.floor((message.expiresAt - now) / 1000);
  const ttl = Number.isFinite(seconds) ? Math.min(Math.max(seconds, 0), OPPO_MAX_OFFLINE_TTL_SECONDS) : 0;
  const content = message.body ?? message.title ?? '';
  // Given to the app when it opens; more than 4000 characters OPPO refuses (41, bad_request).
  const parameters = { ...message.data, ...(ring ? { channel: 'ring' } : {}) };
  const notification = defined({
    app_message_id: message.deliveryId,
    style: [...content].length > CONTENT_MAX ? 2 : 1,
    title: clip(message.title ?? message.body ?? '', TITLE_MAX),
    content: clip(content, LONG_CONTENT_MAX),
    click_action_type: 0,
    action_parameters: Object.keys(parameters).length > 0 ? JSON.stringify(parameters) : undefined,
    channel_id: ring ? settings.ringChannelId : settings.messageChannelId,
    category: ring ? settings.ringCategory : settings.messageCategory,
    notify_level: ring && settings.ringCategory !== undefined ? settings.ringNotifyLevel : undefined,
    off_line: ttl > 0,
    off_line_ttl: ttl > 0 ? ttl : undefined,
    notify_id: message.collapseId !== undefined ? notifyIdOf(message.collapseId) : undefined,
  });
  return { target_type: 2, target_value: message.token, notification };
}

/** The base URL for a registration id's region. */
export function oppoBaseUrl(token: string, settings: Pick<OppoRequestSettings, 'url' | 'intlUrl'>): string {
  return oppoRegion(token) === 'cn' ? settings.url : settings.intlUrl;
}

/**
 * The request for messages to one region: `unicast` with a `message` field for one,
 * `unicast_batch` with a `messages` array for several (≤ 1000). Without `auth_token`: the
 * adapter puts it first in the form; inbox mode stores the request as it is.
 */
export function buildOppoRequest(
  messages: readonly PushMessage[],
  settings: OppoRequestSettings,
  now: number,
): ProviderRequest {
  const [first] = messages;
  if (first === undefined || messages.length > OPPO_MAX_BATCH) {
    throw new RangeError(`an OPPO request carries 1 to ${OPPO_MAX_BATCH} messages`);
  }
  const base = oppoBaseUrl(first.token, settings);
  const form =
    messages.length === 1
      ? new URLSearchParams({ message: JSON.stringify(buildOppoMessage(first, settings, now)) })
      : new URLSearchParams({
          messages: JSON.stringify(messages.map((message) => buildOppoMessage(message, settings, now))),
        });
  return {
    method: 'POST',
    url: `${base}${messages.length === 1 ? OPPO_UNICAST_PATH : OPPO_UNICAST_BATCH_PATH}`,
    headers: { 'content-type': FORM },
    body: form.toString(),
  };
}

/** The `auth_token` form field, first, before the request's own fields. */
export function withAuthToken(body: string, authToken: string): string {
  return `${new URLSearchParams({ auth_token: authToken }).toString()}&${body}`;
}
