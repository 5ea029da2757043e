/** OPPO's checks of the `message` / `messages` of a send, reduced to what an adapter could get wrong. */
import { objectOf } from './fake-values.js';

/** OPPO's new message categories (communication & service, then content & marketing). */
const CATEGORIES = [
  'IM',
  'ACCOUNT',
  'DEVICE_REMINDER',
  'ORDER',
  'TODO',
  'SUBSCRIPTION',
  'NEWS',
  'CONTENT',
  'MARKETING',
  'SOCIAL',
];

const NOTIFICATION_FIELDS = new Set([
  'app_message_id',
  'style',
  'big_picture_id',
  'small_picture_id',
  'title',
  'sub_title',
  'content',
  'click_action_type',
  'click_action_activity',
  'click_action_url',
  'action_parameters',
  'show_time_type',
  'show_start_time',
  'show_end_time',
  'off_line',
  'off_line_ttl',
  'push_time_type',
  'push_start_time',
  'time_zone',
  'fix_speed',
  'fix_speed_rate',
  'network_type',
  'call_back_url',
  'call_back_parameter',
  'channel_id',
  'show_ttl',
  'notify_id',
  'category',
  'notify_level',
  'private_msg_template_id',
  'private_title_parameters',
  'private_content_parameters',
]);
const MESSAGE_FIELDS = new Set(['target_type', 'target_value', 'notification', 'verify_registration_id']);

const chars = (value: string) => [...value].length;

export interface Problem {
  code: number;
  detail: string;
}

/** OPPO's checks of one message object, reduced to what an adapter could get wrong. */
export function checkMessage(value: unknown, strongReminder: ReadonlySet<string>): Problem | undefined {
  const message = objectOf(value);
  if (message === undefined) return { code: 41, detail: 'message must be a JSON object' };
  for (const key of Object.keys(message)) {
    if (!MESSAGE_FIELDS.has(key)) return { code: 41, detail: `unknown field ${key}` };
  }
  if (message.target_type === undefined) return { code: 40, detail: 'target_type' };
  if (message.target_type !== 2 && message.target_type !== 5) return { code: 41, detail: 'target_type' };
  if (message.target_value === undefined) return { code: 40, detail: 'target_value' };
  if (typeof message.target_value !== 'string' || message.target_value === '') {
    return { code: 41, detail: 'target_value' };
  }
  if (message.verify_registration_id !== undefined && typeof message.verify_registration_id !== 'boolean') {
    return { code: 41, detail: 'verify_registration_id' };
  }
  const notification = objectOf(message.notification);
  if (notification === undefined) return { code: 40, detail: 'notification' };
  for (const key of Object.keys(notification)) {
    if (!NOTIFICATION_FIELDS.has(key)) return { code: 41, detail: `unknown field notification.${key}` };
  }
  const { title, content, style = 1 } = notification;
  if (title === undefined || title === '') return { code: 40, detail: 'notification.title' };
  if (typeof title !== 'string' || chars(title) > 50) return { code: 41, detail: 'notification.title' };
  if (content === undefined || content === '') return { code: 40, detail: 'notification.content' };
  if (style !== 1 && style !== 2 && style !== 3) return { code: 41, detail: 'notification.style' };
  if (typeof content !== 'string' || chars(content) > (style === 2 ? 128 : 50)) {
    return { code: 41, detail: 'notification.content' };
  }
  for (const key of ['app_message_id', 'channel_id', 'category', 'action_parameters', 'sub_title']) {
    if (notification[key] !== undefined && typeof notification[key] !== 'string') {
      return { code: 41, detail: `notification.${key}` };
    }
  }
  const click = notification.click_action_type;
  if (click !== undefined && ![0, 1, 2, 4, 5].includes(click as number)) {
    return { code: 41, detail: 'notification.click_action_type' };
  }
  if (typeof notification.action_parameters === 'string') {
    if (notification.action_parameters.length > 4000) {
      return { code: 41, detail: 'notification.action_parameters' };
    }
    try {
      if (objectOf(JSON.parse(notification.action_parameters)) === undefined) throw new Error();
    } catch {
      return { code: 41, detail: 'notification.action_parameters' };
    }
  }
  if (notification.off_line !== undefined && typeof notification.off_line !== 'boolean') {
    return { code: 41, detail: 'notification.off_line' };
  }
  const ttl = notification.off_line_ttl;
  if (ttl !== undefined && (!Number.isInteger(ttl) || (ttl as number) < 1 || (ttl as number) > 864_000)) {
    return { code: 41, detail: 'notification.off_line_ttl' };
  }
  const notifyId = notification.notify_id;
  if (notifyId !== undefined && (!Number.isInteger(notifyId) || (notifyId as number) < 0)) {
    return { code: 41, detail: 'notification.notify_id' };
  }
  const { category, notify_level: level } = notification;
  // The new classification: every message names its category.
  if (category === undefined || !CATEGORIES.includes(category as string)) {
    return { code: 67, detail: 'category' };
  }
  if (level !== undefined) {
    if (level !== 1 && level !== 2 && level !== 16) return { code: 67, detail: 'notify_level' };
    if (level === 16 && !strongReminder.has(category as string)) return { code: 67, detail: 'notify_level' };
  }
  return undefined;
}
