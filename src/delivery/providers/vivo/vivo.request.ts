import { createHash } from 'node:crypto';
import type { ProviderRequest, PushMessage } from '../adapter.js';
import { isSystemCategory } from './vivo.config.js';

/** regIds per `pushToList` call (reference/providers.md §5.2). */
export const VIVO_BATCH_SIZE = 1000;
/** vivo keeps a message at least a minute and at most a day (`timeToLive`, seconds). */
export const VIVO_MIN_TTL_SECONDS = 60;
export const VIVO_MAX_TTL_SECONDS = 86_400;
/** `title` and `content` limits, counting a CJK character as two (vivo's own measure). */
export const VIVO_TITLE_MAX = 40;
export const VIVO_CONTENT_MAX = 100;

export interface VivoRequestSettings {
  appId: string;
  /** e.g. `https://api-push.vivo.com.cn` (a trailing slash is ignored). */
  baseUrl: string;
  ringCategory: string;
  messageCategory: string;
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };

/** The seconds left until `expiresAt`, rounded down, within vivo's 60 s … 1 day. */
export function vivoTtlSeconds(expiresAt: number, now: number): number {
  const seconds = Math.floor((expiresAt - now) / 1000);
  if (!Number.isFinite(seconds)) return VIVO_MIN_TTL_SECONDS;
  return Math.min(VIVO_MAX_TTL_SECONDS, Math.max(VIVO_MIN_TTL_SECONDS, seconds));
}

/** Cuts `text` to `max` by vivo's measure: a character beyond Latin-1 counts as two. */
export function fitVivoText(text: string, max: number): string {
  let weight = 0;
  let result = '';
  for (const character of text) {
    weight += (character.codePointAt(0) ?? 0) > 0xff ? 2 : 1;
    if (weight > max) return result;
    result += character;
  }
  return result;
}

/** vivo's `notifyId` (a positive int): one per collapse id, so a later push replaces the earlier. */
export function vivoNotifyId(collapseId: string): number {
  return (createHash('sha256').update(collapseId).digest().readUInt32BE(0) % 2_147_483_646) + 1;
}

/**
 * A stable, unique-per-request `requestId` (≤ 64 characters) for a request on behalf of
 * several deliveries: the same deliveries give the same id, so vivo drops a resent batch.
 */
export function vivoListRequestId(kind: string, deliveryIds: readonly string[]): string {
  const digest = createHash('sha256').update(deliveryIds.join('\n')).digest('base64url').slice(0, 40);
  return `${kind}-${digest}`;
}

/**
 * The notification fields shared by `message/send` and `message/saveListPayload`:
 * - ring: the app's approved system class (`ring_category`, e.g. IM), `classification: 1`,
 *   `notifyType: 4` (sound and vibration), `timeToLive` = the seconds left of the ring, raised
 *   to vivo's minimum of 60 s;
 * - message: the app's `message_category` (classification from the class), sound and
 *   vibration, `timeToLive` = the seconds left (≤ 1 day).
 * Both open the app when tapped (`skipType: 1`), carry the data in `clientCustomMap`, and
 * turn the collapse id into `notifyId` (a cancel replaces the ring it cancels).
 */
function notificationFields(
  message: PushMessage,
  settings: VivoRequestSettings,
  now: number,
): Record<string, unknown> {
  const category = message.channel === 'ring' ? settings.ringCategory : settings.messageCategory;
  const fields: Record<string, unknown> = {
    notifyType: 4,
    title: fitVivoText(message.title ?? message.body ?? '', VIVO_TITLE_MAX),
    content: fitVivoText(message.body ?? message.title ?? '', VIVO_CONTENT_MAX),
    timeToLive: vivoTtlSeconds(message.expiresAt, now),
    skipType: 1,
    networkType: -1,
    classification: isSystemCategory(category) ? 1 : 0,
    category,
  };
  const data: Record<string, string> = {};
  for (const [key, value] of Object.entries(message.data ?? {})) {
    if (value !== undefined && value !== null) data[key] = String(value);
  }
  if (Object.keys(data).length > 0) fields.clientCustomMap = data;
  if (message.collapseId !== undefined) fields.notifyId = vivoNotifyId(message.collapseId);
  return fields;
}

function endpoint(settings: Pick<VivoRequestSettings, 'baseUrl'>, path: string): string {
  return `${settings.baseUrl.replace(/\/+$/, '')}${path}`;
}

/**
 * `POST /message/send` for one phone, without the `authToken` header (the adapter adds it;
 * inbox mode stores this request as it is). `requestId` is the delivery id, kept across
 * retries, so vivo sends a retried push once. Pure: `now` only turns `expiresAt` into
 * `timeToLive`.
 */
export function buildVivoSendRequest(
  message: PushMessage,
  settings: VivoRequestSettings,
  now: number,
): ProviderRequest {
  return {
    method: 'POST',
    url: endpoint(settings, '/message/send'),
    headers: { ...JSON_HEADERS },
    body: JSON.stringify({
      appId: settings.appId,
      regId: message.token,
      ...notificationFields(message, settings, now),
      requestId: message.deliveryId,
    }),
  };
}

/** `POST /message/saveListPayload`: the content of a fan-out, answered with a `taskId`. */
export function buildVivoListPayloadRequest(
  message: PushMessage,
  settings: VivoRequestSettings,
  now: number,
  requestId: string,
): ProviderRequest {
  return {
    method: 'POST',
    url: endpoint(settings, '/message/saveListPayload'),
    headers: { ...JSON_HEADERS },
    body: JSON.stringify({ ...notificationFields(message, settings, now), requestId }),
  };
}

/** `POST /message/pushToList`: a saved content to 2 … 1000 regIds. */
export function buildVivoPushToListRequest(
  regIds: readonly string[],
  taskId: string,
  requestId: string,
  settings: Pick<VivoRequestSettings, 'baseUrl'>,
): ProviderRequest {
  return {
    method: 'POST',
    url: endpoint(settings, '/message/pushToList'),
    headers: { ...JSON_HEADERS },
    body: JSON.stringify({ regIds, taskId, requestId }),
  };
}
