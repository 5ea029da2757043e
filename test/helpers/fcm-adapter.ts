/** What the FCM tests share: the start time, messages, and the fake FCM with its adapters. */
import { beforeEach } from 'vitest';
import type { PushAdapter, PushMessage } from '../../src/delivery/providers/adapter.js';
import { settingsOrThrow } from '../../src/delivery/providers/catalogue.js';
import { createFcmAdapter, type FcmAdapterOptions } from '../../src/delivery/providers/fcm/fcm.adapter.js';
import { type FcmSettingsInput, validateFcmSettings } from '../../src/delivery/providers/fcm/fcm.config.js';
import { type FakeFcm, startFakeFcm } from '../fakes/fcm-server.js';
import { pushMessage as testPushMessage } from '../fakes/push-message.js';
import { ManualClock } from './clock.js';
import { closedAfterEach } from './closing.js';

export const T0 = Date.UTC(2026, 10, 30, 12, 0, 0);

export function pushMessage(now: number, overrides: Partial<PushMessage> = {}): PushMessage {
  return testPushMessage(now, { expiresAt: now + 30_000, ...overrides });
}

/** The test clock, at T0 before every test. */
export let clock: ManualClock;
/** A fake FCM started before every test. */
export let fake: FakeFcm;
let closing: ReturnType<typeof closedAfterEach>;

/**
 * Before every test of the calling file a clock and a fake FCM; after it, the adapters and
 * fakes the test started are closed.
 */
export function useFcmTestbed(): void {
  closing = closedAfterEach();
  beforeEach(async () => {
    clock = new ManualClock(T0);
    fake = await newFake();
  });
}

export async function newFake(options: Parameters<typeof startFakeFcm>[0] = {}): Promise<FakeFcm> {
  return closing.fake(await startFakeFcm({ clock, ...options }));
}

/** Closes a fake within the test (it is not closed again after it). */
export function closeNow(target: FakeFcm): Promise<void> {
  return closing.closeNow(target);
}

export function adapterFor(
  target: FakeFcm,
  options: Partial<FcmAdapterOptions> = {},
  credentials: FcmSettingsInput = target.credentials(),
): PushAdapter {
  return closing.adapter(
    createFcmAdapter(settingsOrThrow('fcm', validateFcmSettings(credentials)), { clock, ...options }),
  );
}

export const message = (overrides: Partial<PushMessage> = {}) => pushMessage(clock.now(), overrides);
