import type { PushMessage } from '../adapter.js';

/** Messages that differ only in their token and delivery id, at most `maxSize` of them. */
export interface MessageBatch {
  /** Positions in the `send` call's array, so results go back in order. */
  indexes: number[];
  messages: PushMessage[];
}

function contentKey(message: PushMessage): string {
  const { deliveryId: _deliveryId, token: _token, ...content } = message;
  return JSON.stringify(content);
}

/**
 * Splits one `send` call into batches for providers whose batch call carries one payload for
 * many tokens. Rings are never batched: each goes out at once, on its own.
 */
export function batchIdenticalMessages(messages: readonly PushMessage[], maxSize: number): MessageBatch[] {
  const batches: MessageBatch[] = [];
  const open = new Map<string, MessageBatch>();
  messages.forEach((message, index) => {
    if (message.channel === 'ring') {
      batches.push({ indexes: [index], messages: [message] });
      return;
    }
    const key = contentKey(message);
    let batch = open.get(key);
    if (batch === undefined || batch.messages.length >= maxSize) {
      batch = { indexes: [], messages: [] };
      open.set(key, batch);
      batches.push(batch);
    }
    batch.indexes.push(index);
    batch.messages.push(message);
  });
  return batches;
}
