import type { PushMessage } from '../../src/delivery/providers/adapter.js';
import { pushMessage } from './push-message.js';

/**
 * A message to an OPPO phone in mainland China, as the worker hands it to the adapter: a
 * localized doorbell notification living a day from `now`.
 */
export function oppoPushMessage(now: number, overrides: Partial<PushMessage> = {}): PushMessage {
  return pushMessage(now, { deliveryId: 'd-1', token: 'CN_0a1b2c', ...overrides });
}
