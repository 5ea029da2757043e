import pg from 'pg';

export const wakeupChannel = 'bellhop_deliveries';

export interface Wakeup {
  /** Calls `onWake` whenever another process enqueues work. */
  listen(onWake: () => void): Promise<void>;
  close(): Promise<void>;
}

/**
 * Wakes delivery workers in other processes when work is enqueued (PostgreSQL
 * LISTEN/NOTIFY), so that an API process and a worker process sharing one database hand
 * over a ring without waiting for the next poll. Losing the listening connection only costs
 * that speed: the poll still finds the work, and the listener reconnects.
 */
export function createPostgresWakeup(options: {
  connectionString: string;
  onError: (error: unknown) => void;
}): Wakeup {
  let listener: pg.Client | undefined;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;

  async function listen(onWake: () => void): Promise<void> {
    // LISTEN names a channel of the whole database: no schema or other setting is needed.
    const client = new pg.Client({ connectionString: options.connectionString });
    client.on('notification', () => onWake());
    client.on('error', (error) => {
      options.onError(error);
      void client.end().catch(() => {});
      if (!stopped) retry = setTimeout(() => void listen(onWake).catch(options.onError), 1000);
    });
    await client.connect();
    await client.query(`listen ${wakeupChannel}`);
    listener = client;
    if (stopped) await client.end();
  }

  return {
    listen,
    async close() {
      stopped = true;
      clearTimeout(retry);
      await listener?.end().catch(() => {});
    },
  };
}
