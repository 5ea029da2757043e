import { describe, expect, it } from 'vitest';
import { pushMessage } from '../../../../test/fakes/push-message.js';
import type { PushMessage } from '../adapter.js';
import { batchIdenticalMessages } from './batches.js';

function message(token: string, overrides: Partial<PushMessage> = {}): PushMessage {
  return pushMessage(0, {
    deliveryId: `d-${token}`,
    token,
    bundleId: 'com.example.app',
    title: 'Alarm',
    body: 'Motion at the door',
    expiresAt: 1_000,
    ...overrides,
  });
}

describe('batchIdenticalMessages', () => {
  it('puts messages with the same content together, up to the batch size, keeping positions', () => {
    const messages = [
      message('a'),
      message('b', { body: 'Bewegung an der Tür' }),
      message('c'),
      message('d'),
      message('e', { body: 'Bewegung an der Tür' }),
    ];
    const batches = batchIdenticalMessages(messages, 2);
    expect(batches.map((batch) => batch.indexes)).toEqual([[0, 2], [1, 4], [3]]);
    expect(batches[0]?.messages.map((m) => m.token)).toEqual(['a', 'c']);
  });

  it('sends every ring on its own', () => {
    const batches = batchIdenticalMessages(
      [message('a', { channel: 'ring' }), message('b', { channel: 'ring' })],
      100,
    );
    expect(batches.map((batch) => batch.indexes)).toEqual([[0], [1]]);
  });
});
