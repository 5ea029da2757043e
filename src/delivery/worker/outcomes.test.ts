import { describe, expect, it } from 'vitest';
import type { PushResult } from '../providers/adapter.js';
import { type AttemptedDelivery, backoffMs, classifyResults } from './outcomes.js';

const now = 1_000_000;
const options = { now, maxAttempts: 5, random: () => 0.5 };

function delivery(id: string, overrides: Partial<AttemptedDelivery> = {}): AttemptedDelivery {
  return { id, provider: 'fcm', attempts: 0, expires_at: now + 3_600_000, ...overrides };
}

describe('classifyResults', () => {
  it('records no message id for a send the provider answered without one', () => {
    const row = delivery('d1');
    const outcomes = classifyResults([row], [{ ok: true, providerMessageId: undefined }], options);
    expect(outcomes.sentWithoutId).toEqual([row]);
    expect(outcomes.sentEchoingId).toEqual([]);
    expect(outcomes.sentWithId).toEqual([]);
  });

  it('tells an echo of the delivery id (APNs) from a message id of the provider’s own', () => {
    const echoed = delivery('d1', { provider: 'apns' });
    const own = delivery('d2');
    const outcomes = classifyResults(
      [echoed, own],
      [
        { ok: true, providerMessageId: 'd1' },
        { ok: true, providerMessageId: 'projects/p/messages/7' },
      ],
      options,
    );
    expect(outcomes.sentEchoingId).toEqual([echoed]);
    expect(outcomes.sentWithId).toEqual([{ row: own, messageId: 'projects/p/messages/7' }]);
    expect(outcomes.sentWithoutId).toEqual([]);
  });

  it('sorts failures by class and notes the providers that refused the credentials', () => {
    const rows = ['dead', 'unreachable', 'creds', 'bad'].map((id) => delivery(id));
    const results: PushResult[] = [
      { ok: false, failure: 'dead', reason: 'UNREGISTERED' },
      { ok: false, failure: 'unreachable', reason: 'offline' },
      { ok: false, failure: 'creds', reason: 'THIRD_PARTY_AUTH_ERROR' },
      { ok: false, failure: 'bad_request', reason: 'INVALID_ARGUMENT' },
    ];
    const outcomes = classifyResults(rows, results, options);
    expect(outcomes.dead).toEqual([{ row: rows[0], reason: 'UNREGISTERED' }]);
    expect(outcomes.unreachable).toEqual([rows[1]]);
    expect(outcomes.failed).toEqual([
      { row: rows[2], reason: 'THIRD_PARTY_AUTH_ERROR' },
      { row: rows[3], reason: 'INVALID_ARGUMENT' },
    ]);
    expect([...outcomes.credentialsRefused]).toEqual([['fcm', 'THIRD_PARTY_AUTH_ERROR']]);
  });

  it('retries after the backoff or the provider’s Retry-After, whichever is later', () => {
    const soon = delivery('soon', { attempts: 1 });
    const later = delivery('later', { attempts: 1 });
    const outcomes = classifyResults(
      [soon, later],
      [
        { ok: false, failure: 'retry', reason: 'UNAVAILABLE' },
        { ok: false, failure: 'retry', reason: 'QUOTA_EXCEEDED', retryAfterMs: 60_000 },
      ],
      options,
    );
    expect(outcomes.retry).toEqual([
      { row: soon, reason: 'UNAVAILABLE', attempts: 2, status: 'retrying', dueAt: now + 1_500 },
      { row: later, reason: 'QUOTA_EXCEEDED', attempts: 2, status: 'retrying', dueAt: now + 60_000 },
    ]);
  });

  it('fails a retry past the attempts allowed, and expires one that would go after its TTL', () => {
    const worn = delivery('worn', { attempts: 4 });
    const stale = delivery('stale', { expires_at: now + 500 });
    const retry: PushResult = { ok: false, failure: 'retry', reason: 'UNAVAILABLE' };
    const outcomes = classifyResults([worn, stale], [retry, retry], options);
    expect(outcomes.retry.map(({ status, dueAt, attempts }) => ({ status, dueAt, attempts }))).toEqual([
      { status: 'failed', dueAt: null, attempts: 5 },
      { status: 'expired', dueAt: null, attempts: 1 },
    ]);
  });

  it('retries a delivery the provider gave no result for', () => {
    const outcomes = classifyResults([delivery('d1')], [], options);
    expect(outcomes.retry).toMatchObject([{ reason: 'no_result', status: 'retrying' }]);
  });
});

describe('backoffMs', () => {
  it('doubles per attempt with jitter in the upper half, capped at five minutes', () => {
    expect([1, 2, 3].map((attempt) => backoffMs(attempt, () => 0))).toEqual([500, 1_000, 2_000]);
    expect(backoffMs(3, () => 1)).toBe(4_000);
    expect(backoffMs(30, () => 1)).toBe(300_000);
  });
});
