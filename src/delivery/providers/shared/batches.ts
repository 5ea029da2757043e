import type { PushMessage, PushResult } from '../adapter.js';
import { INTERNAL_ERROR } from './errors.js';

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

const ringsFirst = (a: MessageBatch, b: MessageBatch) =>
  Number(b.messages[0]?.channel === 'ring') - Number(a.messages[0]?.channel === 'ring');

/**
 * Sends the batches at once, rings first (they take the first free connections), and writes
 * each batch's results over `results` at its messages' positions. A batch whose `send` throws
 * (a fault of ours) is `internal_error`, tried again later.
 */
export async function sendBatches(
  results: PushResult[],
  batches: readonly MessageBatch[],
  send: (batch: MessageBatch) => Promise<PushResult[]>,
): Promise<PushResult[]> {
  await Promise.all(
    [...batches].sort(ringsFirst).map(async (batch) => {
      const answers = await send(batch).catch(() => batch.messages.map(() => INTERNAL_ERROR));
      batch.indexes.forEach((position, index) => {
        const result = answers[index];
        if (result !== undefined) results[position] = result;
      });
    }),
  );
  return results;
}

/** What a message gets when no batch answers for it: tried again. */
export function noResults(messages: readonly PushMessage[]): PushResult[] {
  return messages.map(() => ({ ok: false, failure: 'retry', reason: 'no_result' }));
}
