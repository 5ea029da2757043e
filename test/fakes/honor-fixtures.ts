import type { PushMessage } from '../../src/delivery/providers/adapter.js';
import { pushMessage } from './push-message.js';

/** A message as the worker hands it to the Honor adapter: a localized doorbell alert. */
export function honorMessage(now: number, overrides: Partial<PushMessage> = {}): PushMessage {
  return pushMessage(now, { token: 'honor-token-1', ...overrides });
}
