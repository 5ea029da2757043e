import type { PushMessage } from '../../src/delivery/providers/adapter.js';
import { pushMessage } from './push-message.js';

/** A message to one Xiaomi phone, living a day from `now`. */
export function xiaomiMessage(now: number, overrides: Partial<PushMessage> = {}): PushMessage {
  return pushMessage(now, { token: 'regid-1', ...overrides });
}
