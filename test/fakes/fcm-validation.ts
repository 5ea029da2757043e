/** The checks the fake FCM makes on a send body, answered the way FCM answers them. */

import { objectOf } from './fake-values.js';
import { BAD_REQUEST, fcmError, googleError, invalidTokenText } from './fcm-errors.js';

const camel = (key: string) => key.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
const withCamel = (keys: string[]) => new Set(keys.flatMap((key) => [key, camel(key)]));

const MESSAGE_FIELDS = withCamel([
  'name',
  'data',
  'notification',
  'android',
  'webpush',
  'apns',
  'fcm_options',
  'token',
  'topic',
  'condition',
]);
const NOTIFICATION_FIELDS = withCamel(['title', 'body', 'image']);
const ANDROID_FIELDS = withCamel([
  'collapse_key',
  'priority',
  'ttl',
  'restricted_package_name',
  'data',
  'notification',
  'fcm_options',
  'direct_boot_ok',
  'bandwidth_constrained_ok',
  'restricted_satellite_ok',
]);
const ANDROID_NOTIFICATION_FIELDS = withCamel([
  'title',
  'body',
  'icon',
  'color',
  'sound',
  'tag',
  'click_action',
  'body_loc_key',
  'body_loc_args',
  'title_loc_key',
  'title_loc_args',
  'channel_id',
  'ticker',
  'sticky',
  'event_time',
  'local_only',
  'notification_priority',
  'default_sound',
  'default_vibrate_timings',
  'default_light_settings',
  'vibrate_timings',
  'visibility',
  'notification_count',
  'light_settings',
  'image',
  'bypass_proxy_notification',
  'proxy',
]);
const ANDROID_NOTIFICATION_STRINGS = withCamel([
  'title',
  'body',
  'icon',
  'color',
  'sound',
  'tag',
  'channel_id',
]);

export interface Violation {
  field: string;
  description: string;
  /** Semantic checks carry FCM's own detail; JSON-level ones only the BadRequest. */
  fcm: boolean;
}

function unknownField(
  object: Record<string, unknown>,
  allowed: Set<string>,
  path: string,
): Violation | undefined {
  for (const key of Object.keys(object)) {
    if (!allowed.has(key)) {
      const description = `Invalid JSON payload received. Unknown name "${key}" at '${path}': Cannot find field.`;
      return { field: path, description, fcm: false };
    }
  }
  return undefined;
}

function typeViolation(field: string, expected: string, value: unknown): Violation {
  return {
    field,
    description: `Invalid value at '${field}' (${expected}), ${JSON.stringify(value)}`,
    fcm: false,
  };
}

function stringMap(value: unknown, path: string): Violation | undefined {
  const map = objectOf(value);
  if (map === undefined) return typeViolation(path, 'type.googleapis.com/google.protobuf.Struct', value);
  let index = 0;
  for (const [key, entry] of Object.entries(map)) {
    if (typeof entry !== 'string') return typeViolation(`${path}[${index}].value`, 'TYPE_STRING', entry);
    const lower = key.toLowerCase();
    if (
      path === 'message.data' &&
      (lower === 'from' || lower === 'message_type' || /^(google|gcm)/.test(lower))
    ) {
      return { field: path, description: `Invalid data payload key: ${key}`, fcm: true };
    }
    index += 1;
  }
  return undefined;
}

/** The checks FCM makes on a send body, reduced to what our adapter could get wrong. */
export function validateSendBody(body: unknown): Violation | undefined {
  const root = objectOf(body);
  if (root === undefined) return { field: '', description: 'Invalid JSON payload received.', fcm: false };
  for (const key of Object.keys(root)) {
    if (key !== 'message' && key !== 'validate_only' && key !== 'validateOnly') {
      return {
        field: '',
        description: `Invalid JSON payload received. Unknown name "${key}": Cannot find field.`,
        fcm: false,
      };
    }
  }
  const message = objectOf(root.message);
  if (message === undefined) return { field: 'message', description: 'Message must be set.', fcm: true };
  const bad = unknownField(message, MESSAGE_FIELDS, 'message');
  if (bad !== undefined) return bad;

  const targets = ['token', 'topic', 'condition'].filter((key) => message[key] !== undefined);
  if (targets.length === 0)
    return { field: 'message', description: 'Recipient of the message is not set.', fcm: true };
  if (targets.length > 1) {
    return {
      field: 'message',
      description: 'Exactly one of token, topic or condition must be set.',
      fcm: true,
    };
  }
  if (message.token !== undefined && typeof message.token !== 'string') {
    return typeViolation('message.token', 'TYPE_STRING', message.token);
  }
  if (message.token === '') return { field: 'message.token', description: invalidTokenText, fcm: true };

  if (message.data !== undefined) {
    const violation = stringMap(message.data, 'message.data');
    if (violation !== undefined) return violation;
  }
  let size = 0;
  for (const [key, value] of Object.entries(objectOf(message.data) ?? {}))
    size += key.length + String(value).length;

  if (message.notification !== undefined) {
    const notification = objectOf(message.notification);
    if (notification === undefined)
      return typeViolation('message.notification', 'TYPE_MESSAGE', message.notification);
    const unknown = unknownField(notification, NOTIFICATION_FIELDS, 'message.notification');
    if (unknown !== undefined) return unknown;
    for (const [key, value] of Object.entries(notification)) {
      if (typeof value !== 'string')
        return typeViolation(`message.notification.${key}`, 'TYPE_STRING', value);
      size += value.length;
    }
  }

  if (message.android !== undefined) {
    const android = objectOf(message.android);
    if (android === undefined) return typeViolation('message.android', 'TYPE_MESSAGE', message.android);
    const unknown = unknownField(android, ANDROID_FIELDS, 'message.android');
    if (unknown !== undefined) return unknown;
    const ttl = android.ttl;
    if (ttl !== undefined) {
      if (typeof ttl !== 'string' || !/^\d+(\.\d{1,9})?s$/.test(ttl)) {
        return typeViolation('message.android.ttl', 'type.googleapis.com/google.protobuf.Duration', ttl);
      }
      if (Number.parseFloat(ttl) > 28 * 24 * 3600) {
        return { field: 'message.android.ttl', description: 'TTL must not exceed 4 weeks.', fcm: true };
      }
    }
    const priority = android.priority;
    if (priority !== undefined && (typeof priority !== 'string' || !/^(normal|high)$/i.test(priority))) {
      return typeViolation('message.android.priority', 'TYPE_ENUM', priority);
    }
    const collapseKey = android.collapse_key ?? android.collapseKey;
    if (collapseKey !== undefined && typeof collapseKey !== 'string') {
      return typeViolation('message.android.collapse_key', 'TYPE_STRING', collapseKey);
    }
    if (android.data !== undefined) {
      const violation = stringMap(android.data, 'message.android.data');
      if (violation !== undefined) return violation;
    }
    if (android.notification !== undefined) {
      const notification = objectOf(android.notification);
      if (notification === undefined) {
        return typeViolation('message.android.notification', 'TYPE_MESSAGE', android.notification);
      }
      const unknownKey = unknownField(
        notification,
        ANDROID_NOTIFICATION_FIELDS,
        'message.android.notification',
      );
      if (unknownKey !== undefined) return unknownKey;
      for (const [key, value] of Object.entries(notification)) {
        if (ANDROID_NOTIFICATION_STRINGS.has(key) && typeof value !== 'string') {
          return typeViolation(`message.android.notification.${key}`, 'TYPE_STRING', value);
        }
      }
      const count = notification.notification_count ?? notification.notificationCount;
      if (count !== undefined && !Number.isInteger(count)) {
        return typeViolation('message.android.notification.notification_count', 'TYPE_INT32', count);
      }
    }
  }
  if (size > 4096) return { field: 'message', description: 'Android message is too big', fcm: true };
  return undefined;
}

export function violationBody(violation: Violation): string {
  const details: unknown[] = violation.fcm ? [fcmError('INVALID_ARGUMENT')] : [];
  details.push({
    '@type': BAD_REQUEST,
    fieldViolations: [{ field: violation.field, description: violation.description }],
  });
  return googleError(400, 'INVALID_ARGUMENT', violation.description, details);
}
