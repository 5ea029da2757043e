import { randomUUID } from 'node:crypto';
import type { PushMessage } from '../../src/delivery/providers/adapter.js';

/** A doorbell message to one Huawei phone, living 30 s from `now`; `overrides` change any field. */
export function huaweiMessage(now: number, overrides: Partial<PushMessage> = {}): PushMessage {
  const message: PushMessage = {
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
    expiresAt: now + 30_000,
    androidChannelId: undefined,
  };
  return Object.assign(message, overrides);
}
