import type { PushMessage } from '../../src/delivery/providers/adapter.js';

/**
 * A message to an OPPO phone in mainland China, as the worker hands it to the adapter: a
 * localized doorbell notification living a day from `now`.
 */
export function oppoPushMessage(now: number, overrides: Partial<PushMessage> = {}): PushMessage {
  return {
    deliveryId: 'd-1',
    token: 'CN_0a1b2c',
    channel: 'message',
    bundleId: 'com.example.doorbell',
    environment: null,
    title: 'Front door',
    body: 'Someone is at the door',
    data: { device: 'cam-1' },
    sound: undefined,
    badge: undefined,
    collapseId: undefined,
    expiresAt: now + 86_400_000,
    androidChannelId: undefined,
    ...overrides,
  };
}
