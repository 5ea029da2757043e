import { randomUUID } from 'node:crypto';
import type { PushMessage } from '../../src/delivery/providers/adapter.js';

/** A message to one Xiaomi phone, living a day from `now`. */
export function xiaomiMessage(now: number, overrides: Partial<PushMessage> = {}): PushMessage {
  return {
    deliveryId: randomUUID(),
    token: 'regid-1',
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
