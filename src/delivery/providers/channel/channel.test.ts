import { describe, expect, it } from 'vitest';
import { pushMessage } from '../../../../test/fakes/push-message.js';
import { createLocalChannelBus } from '../../../channel/bus.js';
import type { PushMessage } from '../adapter.js';
import { createChannelAdapter } from './channel.adapter.js';
import { channelEvent } from './channel.request.js';

const message: PushMessage = pushMessage(0, {
  deliveryId: 'd-1',
  token: 'bhc1_phone',
  channel: 'ring',
  bundleId: 'com.lancens.wxdoorbell',
  data: { uid: 'ABCDEFGHIJKLMNOPQRST', device: 'Front door', type: '1', guid: 'g-1', id: 'not-the-id' },
  expiresAt: 1_000,
});

describe('the push channel adapter', () => {
  it('builds the event Lancens clients read: data keys at the top, texts in aps', () => {
    expect(channelEvent(message)).toEqual({
      uid: 'ABCDEFGHIJKLMNOPQRST',
      device: 'Front door',
      type: '1',
      guid: 'g-1',
      id: 'd-1',
      channel: 'ring',
      title: 'Front door',
      body: 'Someone is at the door',
      aps: {
        alert: 'Someone is at the door',
        message: 'Someone is at the door',
        sound: 'default',
        name: 'Front door',
      },
      data: message.data,
      expires_at: 1_000,
    });
  });

  it('writes to the connected phone and calls the others unreachable', async () => {
    const bus = createLocalChannelBus();
    const written: string[] = [];
    bus.attach('bhc1_phone', { sendEvent: (event) => written.push(event) > 0, replaced: () => {} });
    const counted: Array<[string, number]> = [];
    const adapter = createChannelAdapter(bus, (channel, count) => counted.push([channel, count]));
    const results = await adapter.send([message, { ...message, token: 'bhc1_elsewhere' }]);
    expect(results).toEqual([
      { ok: true, providerMessageId: undefined },
      { ok: false, failure: 'unreachable', reason: 'offline' },
    ]);
    expect(JSON.parse(written[0] ?? '{}')).toMatchObject({ id: 'd-1', uid: 'ABCDEFGHIJKLMNOPQRST' });
    expect(counted).toEqual([['ring', 1]]);
  });

  it('has one connection per phone: a newer one replaces the older', async () => {
    const bus = createLocalChannelBus();
    let replaced = 0;
    const detachOld = bus.attach('t', { sendEvent: () => true, replaced: () => (replaced += 1) });
    const online: string[] = [];
    bus.onOnline((token) => online.push(token));
    bus.attach('t', { sendEvent: () => true, replaced: () => {} });
    expect(replaced).toBe(1);
    expect(online).toEqual(['t']);
    detachOld();
    expect(await bus.isOnline('t')).toBe(true);
  });
});
