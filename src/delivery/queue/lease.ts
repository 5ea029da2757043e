import type { Kysely } from 'kysely';
import type { Clock } from '../../clock.js';
import type { Database } from '../../db/schema.js';

export interface LeaseOptions {
  db: Kysely<Database>;
  clock: Clock;
  leaseMs: number;
  /** How often the lease is renewed; a third of the lease unless given. */
  renewEveryMs?: number;
  onError: (error: unknown) => void;
}

/**
 * Extends the lease of those of `ids` still being sent (a leased row is `sending` and due at
 * its lease's end), found by primary key. A row already settled or rescheduled is left alone.
 */
export async function extendLease(options: LeaseOptions, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await options.db
    .updateTable('deliveries')
    .set({ due_at: options.clock.now() + options.leaseMs })
    .where('id', 'in', ids)
    .where('status', '=', 'sending')
    .execute();
}

/**
 * Runs `work` on claimed deliveries while renewing their lease, so that a process that is
 * slow (a slow provider, a starved machine) but alive keeps its claims: only a process that
 * is gone lets its leases run out and its deliveries go again. Renewals never overlap (a slow
 * one delays the next), and none is left running when this returns.
 */
export async function whileLeased<T>(
  options: LeaseOptions,
  ids: readonly string[],
  work: () => Promise<T>,
): Promise<T> {
  const every = options.renewEveryMs ?? options.leaseMs / 3;
  let stopped = false;
  let renewal: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const renew = () => {
    renewal = extendLease(options, ids)
      .catch(options.onError)
      .finally(() => {
        if (!stopped) timer = setTimeout(renew, every);
      });
  };
  timer = setTimeout(renew, every);
  try {
    return await work();
  } finally {
    stopped = true;
    clearTimeout(timer);
    await renewal;
  }
}
