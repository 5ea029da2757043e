/** The checks Honor makes on a `sendMessage` body, reduced to what an adapter could get wrong. */
import { objectOf } from './fake-values.js';

const TOP_FIELDS = new Set(['token', 'data', 'notification', 'android']);
const NOTIFICATION_FIELDS = new Set(['title', 'body', 'image']);
const ANDROID_FIELDS = new Set(['ttl', 'biTag', 'data', 'notification', 'targetUserType', 'category']);
const ANDROID_NOTIFICATION_FIELDS = new Set([
  'title',
  'body',
  'clickAction',
  'image',
  'style',
  'bigTitle',
  'bigBody',
  'importance',
  'when',
  'buttons',
  'badge',
  'notifyId',
  'tag',
  'group',
  'channelId',
]);
const STRING_FIELDS = ['title', 'body', 'image', 'bigTitle', 'bigBody', 'tag', 'group', 'channelId'];
const MAX_TTL_SECONDS = 15 * 24 * 3600;

function unknownField(object: Record<string, unknown>, allowed: Set<string>, path: string) {
  const key = Object.keys(object).find((name) => !allowed.has(name));
  return key === undefined ? undefined : `Illegal payload, unknown field ${path}${key}`;
}

/** The checks Honor makes on a `sendMessage` body; a problem as [error name, message]. */
export function checkBody(body: Record<string, unknown>, raw: string, categories: readonly string[]) {
  const payload = (message: string) => ['ILLEGAL_PAYLOAD', message] as const;
  const unknown = unknownField(body, TOP_FIELDS, '');
  if (unknown !== undefined) return payload(unknown);
  const { token } = body;
  if (
    !Array.isArray(token) ||
    token.length < 1 ||
    token.length > 1000 ||
    token.some((entry) => typeof entry !== 'string' || entry === '')
  ) {
    return ['TOKEN_COUNT', 'token must hold 1 to 1000 non-empty strings'] as const;
  }
  if (body.data !== undefined && typeof body.data !== 'string')
    return payload('Illegal payload, data must be a string');
  const notification = body.notification === undefined ? {} : objectOf(body.notification);
  if (notification === undefined) return payload('Illegal payload, notification must be an object');
  const android = body.android === undefined ? {} : objectOf(body.android);
  if (android === undefined) return payload('Illegal payload, android must be an object');
  const problem =
    unknownField(notification, NOTIFICATION_FIELDS, 'notification.') ??
    unknownField(android, ANDROID_FIELDS, 'android.');
  if (problem !== undefined) return payload(problem);
  if (android.ttl !== undefined) {
    const ttl = typeof android.ttl === 'string' ? /^(\d+)s$/.exec(android.ttl) : null;
    if (ttl === null || Number(ttl[1]) > MAX_TTL_SECONDS) return payload('Illegal payload, ttl is invalid');
  }
  if (android.category !== undefined && !categories.includes(String(android.category))) {
    return ['NO_RIGHT', `No permission for category ${String(android.category)}`] as const;
  }
  const shown = android.notification === undefined ? undefined : objectOf(android.notification);
  if (android.notification !== undefined && shown === undefined) {
    return payload('Illegal payload, android.notification must be an object');
  }
  if (shown !== undefined) {
    const bad = unknownField(shown, ANDROID_NOTIFICATION_FIELDS, 'android.notification.');
    if (bad !== undefined) return payload(bad);
    const wrongType = STRING_FIELDS.find((key) => shown[key] !== undefined && typeof shown[key] !== 'string');
    if (wrongType !== undefined)
      return payload(`Illegal payload, android.notification.${wrongType} must be a string`);
    if (!(notification.title ?? shown.title) || !(notification.body ?? shown.body)) {
      return payload('Illegal payload, a notification message needs a title and a body');
    }
    const click = objectOf(shown.clickAction);
    if (click === undefined || ![1, 2, 3].includes(click.type as number)) {
      return payload('Illegal payload, android.notification.clickAction.type must be 1, 2 or 3');
    }
    if (shown.importance !== undefined && shown.importance !== 'LOW' && shown.importance !== 'NORMAL') {
      return payload('Illegal payload, importance must be LOW or NORMAL');
    }
  }
  if (body.data === undefined && shown === undefined && body.notification === undefined) {
    return payload('Illegal payload, the message has neither data nor notification');
  }
  if (Buffer.byteLength(raw) - Buffer.byteLength(JSON.stringify(token)) > 4096) {
    return ['BODY_TOO_LARGE', 'The message body size exceeds 4096 bytes'] as const;
  }
  return undefined;
}
