/** The checks MiPush makes on the form fields of a send. */
import type { IncomingMessage } from 'node:http';
import type { FakeXiaomiAnswer } from './xiaomi-types.js';

const MAX_REGIDS = 1000;
const MAX_PAYLOAD_BYTES = 4096;
const KNOWN_FIELDS = new Set([
  'registration_id',
  'restricted_package_name',
  'pass_through',
  'title',
  'description',
  'payload',
  'notify_type',
  'notify_id',
  'time_to_live',
  'time_to_send',
]);

/** The checks MiPush makes on a send, reduced to what an adapter could get wrong. */
export function checkFields(
  request: IncomingMessage,
  fields: Record<string, string>,
  tokens: string[],
  packageName: string,
  channels: ReadonlySet<string>,
): FakeXiaomiAnswer | undefined {
  const illegal = (reason: string): FakeXiaomiAnswer => ({ error: 'ILLEGAL_PARAMETER', reason });
  if (!/^application\/x-www-form-urlencoded/i.test(request.headers['content-type'] ?? '')) {
    return { error: 'MISSING_PARAMETER', reason: 'registration_id is required.' };
  }
  for (const key of Object.keys(fields)) {
    if (!KNOWN_FIELDS.has(key) && !key.startsWith('extra.')) return illegal(`Unknown parameter ${key}.`);
  }
  if (tokens.length === 0) return { error: 'MISSING_PARAMETER', reason: 'registration_id is required.' };
  if (tokens.length > MAX_REGIDS) return illegal(`Too many registration ids (max ${MAX_REGIDS}).`);
  if (fields.restricted_package_name !== packageName) return 'ILLEGAL_PACKAGE';
  const passThrough = fields.pass_through ?? '0';
  if (passThrough !== '0' && passThrough !== '1') return illegal('pass_through must be 0 or 1.');
  if (passThrough === '0') {
    if (!fields.title || !fields.description) return 'EMPTY_TITLE';
    if ([...fields.title].length >= 50 || [...fields.description].length >= 128) {
      return illegal('Title or description too long.');
    }
  }
  if (Buffer.byteLength(fields.payload ?? '') > MAX_PAYLOAD_BYTES) return 'CONTENT_TOO_LONG';
  if (fields.time_to_live !== undefined && !/^[1-9]\d{0,12}$/.test(fields.time_to_live)) {
    return illegal('time_to_live must be a positive number of milliseconds.');
  }
  if (fields.notify_type !== undefined && !/^(-1|[0-7])$/.test(fields.notify_type)) {
    return illegal('notify_type must be -1 or a sum of 1, 2 and 4.');
  }
  if (
    fields.notify_id !== undefined &&
    (!/^\d{1,10}$/.test(fields.notify_id) || Number(fields.notify_id) > 2_147_483_647)
  ) {
    return illegal('notify_id must be an integer from 0 to 2147483647.');
  }
  const onlyOnce = fields['extra.only_send_once'];
  if (onlyOnce !== undefined && onlyOnce !== '0' && onlyOnce !== '1') {
    return illegal('extra.only_send_once must be 0 or 1.');
  }
  const channel = fields['extra.channel_id'];
  if (channel === undefined) {
    return { error: 'MISSING_PARAMETER', reason: 'extra.channel_id is required for this app.' };
  }
  if (!channels.has(channel)) return 'CHANNEL_MISMATCH';
  return undefined;
}
