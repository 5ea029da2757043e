/** The checks Push Kit makes on a send body, reduced to what an adapter could get wrong. */
import { HUAWEI_CATEGORIES } from '../../src/delivery/providers/huawei/huawei.config.js';
import { objectOf } from './fake-values.js';
import type { FakeHuaweiErrorName } from './huawei-errors.js';

const URGENCIES = new Set(['HIGH', 'NORMAL']);
const IMPORTANCES = new Set(['LOW', 'NORMAL', 'HIGH']);
// The self-classification categories, and PLAY_VOICE (data messages only).
const CATEGORIES = new Set<string>([...HUAWEI_CATEGORIES, 'PLAY_VOICE']);
const NOTIFICATION_STRINGS = ['title', 'body', 'channel_id', 'tag', 'sound', 'icon', 'color', 'image'];

export function checkSendBody(body: unknown, highPriorityAllowed: boolean): FakeHuaweiErrorName | undefined {
  const message = objectOf(objectOf(body)?.message);
  if (message === undefined) return '80100003';
  const validateOnly = objectOf(body)?.validate_only;
  if (validateOnly !== undefined && typeof validateOnly !== 'boolean') return '80100003';
  const targets = ['token', 'topic', 'condition'].filter((key) => message[key] !== undefined);
  if (targets.length !== 1) return '80100003';
  const tokens = message.token;
  if (tokens !== undefined) {
    if (!Array.isArray(tokens) || tokens.some((token) => typeof token !== 'string' || token === '')) {
      return '80100003';
    }
    if (tokens.length < 1 || tokens.length > 1000) return '80300010';
  }
  if (message.data !== undefined && typeof message.data !== 'string') return '80100003';
  const common = objectOf(message.notification);
  if (message.notification !== undefined && common === undefined) return '80100003';
  const android = message.android === undefined ? {} : objectOf(message.android);
  if (android === undefined) return '80100003';
  const ttl = android.ttl;
  if (ttl !== undefined) {
    if (typeof ttl !== 'string' || !/^\d+(\.\d{1,9})?s$/.test(ttl)) return '80100003';
    if (Number.parseFloat(ttl) > 1_296_000) return '80100003';
  }
  if (android.urgency !== undefined && !URGENCIES.has(String(android.urgency))) return '80100003';
  if (android.category !== undefined && !CATEGORIES.has(String(android.category))) return '80100003';
  if (android.collapse_key !== undefined && !Number.isInteger(android.collapse_key)) return '80100013';
  const notification = objectOf(android.notification);
  if (android.notification !== undefined && notification === undefined) return '80100003';
  if (notification !== undefined) {
    for (const key of NOTIFICATION_STRINGS) {
      if (notification[key] !== undefined && typeof notification[key] !== 'string') return '80100003';
    }
    // click_action is required for Android notification messages.
    const type = objectOf(notification.click_action)?.type;
    if (typeof type !== 'number' || ![1, 2, 3, 4].includes(type)) return '80100003';
    if (notification.importance !== undefined && !IMPORTANCES.has(String(notification.importance))) {
      return '80100003';
    }
  }
  const isNotification = notification !== undefined || common !== undefined;
  if (isNotification) {
    const title = notification?.title ?? common?.title;
    const text = notification?.body ?? common?.body;
    if (title === undefined && text === undefined) return '80100003';
  } else if (message.data === undefined) {
    return '80100003';
  }
  if (android.urgency === 'HIGH') {
    if (isNotification) return '80100003';
    if (!highPriorityAllowed) return '80300011';
    if (android.category !== 'VOIP' && android.category !== 'PLAY_VOICE') return '80300011';
  }
  if (notification?.importance === 'HIGH' && !highPriorityAllowed) return '80300011';
  const size = Buffer.byteLength(JSON.stringify({ ...message, token: undefined }));
  if (size > 4096) return '80300008';
  return undefined;
}
