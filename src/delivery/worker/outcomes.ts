import type { DeliveryStatus } from '../../db/schema.js';
import type { PushResult } from '../providers/adapter.js';

/** What the classifier needs of a delivery handed to a provider. */
export interface AttemptedDelivery {
  id: string;
  provider: string;
  attempts: number;
  expires_at: number;
}

/** A retry answer turned into the delivery's next state. */
export interface RetryOutcome<R> {
  row: R;
  reason: string;
  /** The attempts counted with this one. */
  attempts: number;
  /** `retrying` when it goes again; `failed` or `expired` when it may not. */
  status: Extract<DeliveryStatus, 'retrying' | 'failed' | 'expired'>;
  /** When it goes again; null unless `retrying`. */
  dueAt: number | null;
}

/** Provider answers sorted by what becomes of each delivery. */
export interface Outcomes<R> {
  /** Sent, and the provider echoed Bellhop's own delivery id as its message id (APNs's apns-id). */
  sentEchoingId: R[];
  /** Sent with the provider's own message id. */
  sentWithId: Array<{ row: R; messageId: string }>;
  /** Sent; the provider gave no message id. */
  sentWithoutId: R[];
  /** The token will never work again: its registration goes. */
  dead: Array<{ row: R; reason: string }>;
  /** Not retried (our request or our credentials were refused). */
  failed: Array<{ row: R; reason: string }>;
  retry: Array<RetryOutcome<R>>;
  /** The device could not be reached this way now. */
  unreachable: R[];
  /** Providers that refused the app's credentials, with the last reason given. */
  credentialsRefused: Map<string, string>;
}

export interface ClassifyOptions {
  now: number;
  maxAttempts: number;
  random?: () => number;
}

/** Exponential backoff with full jitter: 1 s, 2 s, 4 s … capped at 5 min. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(300_000, 1000 * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

const missing: PushResult = { ok: false, failure: 'retry', reason: 'no_result' };

/** Sorts the results of one provider call (one per row, in order) into outcomes. */
export function classifyResults<R extends AttemptedDelivery>(
  rows: readonly R[],
  results: readonly PushResult[],
  options: ClassifyOptions,
): Outcomes<R> {
  const outcomes: Outcomes<R> = {
    sentEchoingId: [],
    sentWithId: [],
    sentWithoutId: [],
    dead: [],
    failed: [],
    retry: [],
    unreachable: [],
    credentialsRefused: new Map(),
  };
  rows.forEach((row, index) => {
    const result = results[index] ?? missing;
    if (result.ok) {
      const messageId = result.providerMessageId;
      if (messageId === undefined || messageId === '') outcomes.sentWithoutId.push(row);
      else if (messageId === row.id) outcomes.sentEchoingId.push(row);
      else outcomes.sentWithId.push({ row, messageId });
      return;
    }
    if (result.failure === 'dead') outcomes.dead.push({ row, reason: result.reason });
    else if (result.failure === 'unreachable') outcomes.unreachable.push(row);
    else if (result.failure === 'retry')
      outcomes.retry.push(retryOutcome(row, result.reason, result.retryAfterMs, options));
    else outcomes.failed.push({ row, reason: result.reason });
    if (result.failure === 'creds') outcomes.credentialsRefused.set(row.provider, result.reason);
  });
  return outcomes;
}

function retryOutcome<R extends AttemptedDelivery>(
  row: R,
  reason: string,
  retryAfterMs: number | undefined,
  options: ClassifyOptions,
): RetryOutcome<R> {
  const attempts = row.attempts + 1;
  const dueAt = options.now + Math.max(retryAfterMs ?? 0, backoffMs(attempts, options.random));
  const status =
    attempts >= options.maxAttempts ? 'failed' : dueAt >= row.expires_at ? 'expired' : 'retrying';
  return { row, reason, attempts, status, dueAt: status === 'retrying' ? dueAt : null };
}
