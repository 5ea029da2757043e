import { randomUUID } from 'node:crypto';
import type { PushMessage } from '../../src/delivery/providers/adapter.js';

const DAY_MS = 86_400_000;

/**
 * A message as the worker hands it to an adapter: a doorbell alert to one phone, living a day
 * from `now`; `overrides` change any field.
 */
export function pushMessage(now: number, overrides: Partial<PushMessage> = {}): PushMessage {
  return {
    deliveryId: randomUUID(),
    token: 'token-1',
    channel: 'message',
    bundleId: 'com.example.doorbell',
    environment: null,
    title: 'Front door',
    body: 'Someone is at the door',
    data: { device: 'cam-1' },
    sound: undefined,
    badge: undefined,
    collapseId: undefined,
    expiresAt: now + DAY_MS,
    androidChannelId: undefined,
    ...overrides,
  };
}
