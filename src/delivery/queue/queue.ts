/**
 * The delivery queue. The database is the record of every delivery; a queue backend only
 * decides which process works on which delivery, and when. The SQL backend (this folder)
 * claims straight from the `deliveries` table; a Redis backend implements the same contract.
 */
export interface DeliveryQueue {
  /**
   * Deliveries were stored and are due at `dueAt` (Unix ms): make them reach a consumer,
   * without polling delay when they are due now.
   */
  enqueue(jobs: ReadonlyArray<{ id: string; dueAt: number; priority: number }>): Promise<void>;
  /**
   * Starts handing due deliveries to `handler`, leased; the lease is renewed while the
   * handler runs. A delivery is handed out again when its lease ends: its process is gone, or
   * its handler returned without settling or rescheduling it.
   */
  start(handler: (ids: string[]) => Promise<void>, hooks?: QueueHooks): void;
  /** Stops taking work and waits for the handler calls in progress. */
  stop(): Promise<void>;
}

export interface QueueHooks {
  /** Nothing due is left to hand out and every handed-out batch was handled. */
  idle?: () => void;
}
