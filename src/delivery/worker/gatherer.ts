import type { FastifyBaseLogger } from 'fastify';
import type { App } from '../../admin/apps.js';
import type { PushAdapter, PushMessage } from '../providers/adapter.js';
import type { ClaimedDelivery } from './worker.repository.js';

/** Hands one adapter call's messages to the provider and records the results. */
export type BatchSender = (
  app: App,
  adapter: PushAdapter,
  rows: readonly ClaimedDelivery[],
  messages: readonly PushMessage[],
) => Promise<void>;

/** Messages waiting to fill one adapter's batch call. */
interface Gathering {
  app: App;
  entries: Array<{ row: ClaimedDelivery; message: PushMessage }>;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Gathers messages for providers with a batch call into sends of the adapter's batch size. A
 * full batch goes at once, and the claim that filled it waits for it (so claims cannot outrun
 * the provider); the rest goes when later claims fill it, when the queue is idle (`flush`),
 * or after `lingerMs` at the latest (well within the claims' lease).
 */
export class Gatherer {
  private readonly gatherings = new Map<PushAdapter, Gathering>();
  /** Sends in progress from gatherings, which `drain` waits for. */
  private readonly sending = new Set<Promise<void>>();

  constructor(private readonly options: { lingerMs: number; send: BatchSender; log: FastifyBaseLogger }) {}

  /** Adds messages to the adapter's gathering; `sendNow`: what it holds goes without waiting. */
  gather(
    app: App,
    adapter: PushAdapter,
    batchSize: number,
    rows: readonly ClaimedDelivery[],
    messages: readonly PushMessage[],
    sendNow: boolean,
  ): Promise<void> {
    let gathering = this.gatherings.get(adapter);
    if (gathering === undefined) {
      gathering = { app, entries: [], timer: undefined };
      this.gatherings.set(adapter, gathering);
    }
    gathering.app = app;
    const current = gathering;
    rows.forEach((row, index) => {
      current.entries.push({ row, message: messages[index] as PushMessage });
    });
    const sends: Array<Promise<void>> = [];
    while (current.entries.length >= batchSize) sends.push(this.sendNow(adapter, current, batchSize));
    if (sendNow && current.entries.length > 0) {
      sends.push(this.sendNow(adapter, current, current.entries.length));
    } else if (current.entries.length > 0 && current.timer === undefined) {
      current.timer = setTimeout(() => {
        current.timer = undefined;
        void this.sendNow(adapter, current, current.entries.length);
      }, this.options.lingerMs);
    }
    return Promise.all(sends).then(() => undefined);
  }

  /** Sends what gatherings hold now: nothing more is coming (the queue is idle). */
  flush(): void {
    for (const [adapter, gathering] of this.gatherings) {
      clearTimeout(gathering.timer);
      gathering.timer = undefined;
      void this.sendNow(adapter, gathering, gathering.entries.length);
    }
  }

  /** Sends what gatherings hold and waits for every send in progress (at shutdown). */
  async drain(): Promise<void> {
    this.flush();
    await Promise.all(this.sending);
  }

  private sendNow(adapter: PushAdapter, gathering: Gathering, count: number): Promise<void> {
    const sending = this.send(adapter, gathering, count);
    this.sending.add(sending);
    void sending.finally(() => this.sending.delete(sending));
    return sending;
  }

  private async send(adapter: PushAdapter, gathering: Gathering, count: number): Promise<void> {
    const entries = gathering.entries.splice(0, count);
    if (gathering.entries.length === 0) {
      clearTimeout(gathering.timer);
      gathering.timer = undefined;
      if (this.gatherings.get(adapter) === gathering) this.gatherings.delete(adapter);
    }
    if (entries.length === 0) return;
    try {
      await this.options.send(
        gathering.app,
        adapter,
        entries.map((entry) => entry.row),
        entries.map((entry) => entry.message),
      );
    } catch (error) {
      // The lease runs out and the deliveries are handed out again.
      this.options.log.error({ err: error }, 'delivery batch failed');
    }
  }
}
