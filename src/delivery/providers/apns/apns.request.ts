import type { ProviderRequest, PushMessage, PushResult } from '../adapter.js';
import type { ApnsEndpoints } from './apns.config.js';

/** Payload limits (reference/providers.md §1.3): beyond them APNs answers 413 PayloadTooLarge. */
export const APNS_MAX_PAYLOAD_BYTES = 4096;
export const APNS_MAX_VOIP_PAYLOAD_BYTES = 5120;
/** `apns-collapse-id` limit: longer is 400 BadCollapseId. */
export const APNS_MAX_COLLAPSE_ID_BYTES = 64;

/**
 * The exact request APNs receives for one message, without `authorization` (the adapter adds
 * it; inbox mode stores this). Pure: the same inputs give the same request.
 *
 * - ring → a PushKit (VoIP) push: `apns-push-type: voip`, topic `<bundleId>.voip`;
 * - message → an alert: `apns-push-type: alert`, topic `<bundleId>`;
 * - both priority 10, `apns-expiration` = `expiresAt` in Unix seconds (`0`, "try once and do
 *   not store", when it is already past at `now`), `apns-id` = `deliveryId`.
 *
 * Payload: `{"aps": {"alert": {"title", "body"}, "sound", "badge"}, ...data}` (badge on
 * messages only; absent fields omitted; a `data` key `aps` cannot replace the `aps` object).
 */
export function buildApnsRequest(
  message: PushMessage,
  endpoint: ApnsEndpoints,
  now: number,
): ProviderRequest {
  const ring = message.channel === 'ring';
  const host = (message.environment === 'sandbox' ? endpoint.sandboxUrl : endpoint.productionUrl).replace(
    /\/+$/,
    '',
  );
  const expirationSeconds = Math.floor(message.expiresAt / 1000);
  const headers: Record<string, string> = {
    'apns-push-type': ring ? 'voip' : 'alert',
    'apns-topic': ring ? `${message.bundleId}.voip` : message.bundleId,
    'apns-priority': '10',
    'apns-expiration': message.expiresAt <= now || expirationSeconds < 0 ? '0' : String(expirationSeconds),
    'apns-id': message.deliveryId,
    'content-type': 'application/json',
  };
  if (message.collapseId !== undefined && message.collapseId !== '') {
    headers['apns-collapse-id'] = message.collapseId;
  }
  return {
    method: 'POST',
    url: `${host}/3/device/${encodeURIComponent(message.token)}`,
    headers,
    body: JSON.stringify(apnsPayload(message)),
  };
}

/** The JSON payload of {@link buildApnsRequest}, as an object. */
export function apnsPayload(message: PushMessage): Record<string, unknown> {
  const alert: Record<string, string> = {};
  if (message.title !== undefined) alert.title = message.title;
  if (message.body !== undefined) alert.body = message.body;
  const aps: Record<string, unknown> = {};
  if (Object.keys(alert).length > 0) aps.alert = alert;
  if (message.sound !== undefined) aps.sound = message.sound;
  if (message.channel === 'message' && message.badge !== undefined) aps.badge = message.badge;
  // A null prototype: a `__proto__` key in `data` is then an ordinary key, as in JSON.
  const payload: Record<string, unknown> = Object.create(null);
  payload.aps = aps;
  for (const [key, value] of Object.entries(message.data)) {
    if (key !== 'aps') payload[key] = value;
  }
  return payload;
}

/** The payload limit of the message's push type. */
export function apnsPayloadLimit(message: Pick<PushMessage, 'channel'>): number {
  return message.channel === 'ring' ? APNS_MAX_VOIP_PAYLOAD_BYTES : APNS_MAX_PAYLOAD_BYTES;
}

/** A device token as APNs accepts it: non-empty, even-length hex. */
export function isApnsDeviceToken(token: string): boolean {
  return token.length > 0 && token.length % 2 === 0 && /^[0-9a-fA-F]+$/.test(token);
}

/** What APNs itself would answer to `message`, without the round trip; undefined: send it. */
export function apnsLocalRefusal(message: PushMessage, now: number): PushResult | undefined {
  if (message.expiresAt <= now) return { ok: false, failure: 'bad_request', reason: 'expired' };
  if (!isApnsDeviceToken(message.token)) return { ok: false, failure: 'dead', reason: 'BadDeviceToken' };
  if (message.bundleId === '') return { ok: false, failure: 'bad_request', reason: 'MissingTopic' };
  if (
    message.collapseId !== undefined &&
    Buffer.byteLength(message.collapseId) > APNS_MAX_COLLAPSE_ID_BYTES
  ) {
    return { ok: false, failure: 'bad_request', reason: 'BadCollapseId' };
  }
  return undefined;
}
