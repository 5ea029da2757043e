/** What the OPPO adapter's tests share: a clock, the fake OPPO, adapters and messages. */
import { beforeEach } from 'vitest';
import type { PushAdapter, PushMessage, PushResult } from '../../src/delivery/providers/adapter.js';
import { settingsOrThrow } from '../../src/delivery/providers/catalogue.js';
import {
  createOppoAdapter,
  type OppoAdapterOptions,
} from '../../src/delivery/providers/oppo/oppo.adapter.js';
import { validateOppoSettings } from '../../src/delivery/providers/oppo/oppo.config.js';
import { oppoPushMessage } from '../fakes/oppo-fixtures.js';
import { type FakeOppo, startFakeOppo } from '../fakes/oppo-server.js';
import { ManualClock } from './clock.js';
import { closedAfterEach } from './closing.js';

/** 20:00 in China: the daily quota resets in four hours. */
export const T0 = Date.UTC(2026, 10, 30, 12, 0, 0);
export const HOUR = 3600_000;

/** The test clock, at T0 before every test. */
export let clock: ManualClock;
/** A fake OPPO started before every test. */
export let fake: FakeOppo;
let closing: ReturnType<typeof closedAfterEach>;
let sequence = 0;

/**
 * Before every test of the calling file a clock and a fake OPPO; after it, the adapters and
 * fakes the test started are closed.
 */
export function useOppoTestbed(): void {
  closing = closedAfterEach();
  beforeEach(async () => {
    clock = new ManualClock(T0);
    fake = await startFakeOppo({ clock });
    closing.fake(fake);
  });
}

/** Closes a fake within the test (it is not closed again after it). */
export function closeNow(target: FakeOppo): Promise<void> {
  return closing.closeNow(target);
}

export function adapterFor(
  options: Partial<OppoAdapterOptions> = {},
  overrides: Record<string, unknown> = {},
): PushAdapter {
  return closing.adapter(
    createOppoAdapter(settingsOrThrow('oppo', validateOppoSettings(fake.credentials(overrides))), {
      clock,
      ...options,
    }),
  );
}

/** A message with a delivery id and a China token of its own. */
export function message(overrides: Partial<PushMessage> = {}): PushMessage {
  sequence += 1;
  return oppoPushMessage(clock.now(), {
    deliveryId: `delivery-${sequence}`,
    token: `CN_phone-${sequence}`,
    ...overrides,
  });
}

export const messages = (count: number, overrides: Partial<PushMessage> = {}) =>
  Array.from({ length: count }, () => message(overrides));

export const statuses = (results: readonly PushResult[]) =>
  results.map((result) => (result.ok ? 'ok' : result.reason));
