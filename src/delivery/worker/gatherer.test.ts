import type { FastifyBaseLogger } from 'fastify';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { App } from '../../admin/apps.js';
import type { PushAdapter, PushMessage } from '../providers/adapter.js';
import { type BatchSender, Gatherer } from './gatherer.js';
import type { ClaimedDelivery } from './worker.repository.js';

const app = { bundleid: 'com.example.app' } as App;
const adapter = { provider: 'huawei', batchSize: 3 } as PushAdapter;
const log = { error: vi.fn() } as unknown as FastifyBaseLogger;

function claimed(count: number, from = 0) {
  const rows = Array.from({ length: count }, (_, index) => ({ id: `d${from + index}` }) as ClaimedDelivery);
  return { rows, messages: rows.map((row) => ({ deliveryId: row.id }) as PushMessage) };
}

describe('Gatherer', () => {
  let sent: string[][];
  let send: BatchSender;

  beforeEach(() => {
    vi.useFakeTimers();
    sent = [];
    send = async (_app, _adapter, rows) => {
      sent.push(rows.map((row) => row.id));
    };
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends full batches at once and keeps the rest for later claims', async () => {
    const gatherer = new Gatherer({ lingerMs: 1_000, send, log });
    const first = claimed(4);
    await gatherer.gather(app, adapter, 3, first.rows, first.messages, false);
    expect(sent).toEqual([['d0', 'd1', 'd2']]);
    const second = claimed(2, 4);
    await gatherer.gather(app, adapter, 3, second.rows, second.messages, false);
    expect(sent).toEqual([
      ['d0', 'd1', 'd2'],
      ['d3', 'd4', 'd5'],
    ]);
  });

  it('sends what waits after the linger time, or at once when flushed', async () => {
    const gatherer = new Gatherer({ lingerMs: 1_000, send, log });
    const { rows, messages } = claimed(2);
    await gatherer.gather(app, adapter, 3, rows, messages, false);
    await vi.advanceTimersByTimeAsync(999);
    expect(sent).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent).toEqual([['d0', 'd1']]);

    const more = claimed(1, 2);
    await gatherer.gather(app, adapter, 3, more.rows, more.messages, false);
    gatherer.flush();
    await gatherer.drain();
    expect(sent).toEqual([['d0', 'd1'], ['d2']]);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(sent).toHaveLength(2);
  });

  it('sends at once when asked to, and drain waits for sends in progress', async () => {
    let release: () => void = () => undefined;
    const slow: BatchSender = (_app, _adapter, rows) =>
      new Promise((resolve) => {
        release = () => {
          sent.push(rows.map((row) => row.id));
          resolve();
        };
      });
    const gatherer = new Gatherer({ lingerMs: 1_000, send: slow, log });
    const { rows, messages } = claimed(1);
    void gatherer.gather(app, adapter, 3, rows, messages, true);
    let drained = false;
    const draining = gatherer.drain().then(() => {
      drained = true;
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(drained).toBe(false);
    release();
    await draining;
    expect(sent).toEqual([['d0']]);
  });
});
