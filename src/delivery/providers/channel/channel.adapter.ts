import type { ChannelBus } from '../../../channel/bus.js';
import type { PushAdapter, PushResult } from '../adapter.js';
import { channelEvent } from './channel.request.js';

export const CHANNEL_PROVIDER = 'channel';

const offline: PushResult = { ok: false, failure: 'unreachable', reason: 'offline' };
const written: PushResult = { ok: true, providerMessageId: undefined };

/**
 * Delivers over Bellhop's own push channel: an event frame to the phone's connection,
 * wherever the bus finds it. A phone that is not connected is `unreachable`: the worker
 * then tries the registration's phone-maker route, or waits for the phone to come back.
 * The channel needs no app settings: one adapter serves every bundleid.
 */
export function createChannelAdapter(
  bus: ChannelBus,
  onDelivered: (channel: 'ring' | 'message', count: number) => void = () => {},
): PushAdapter {
  return {
    provider: CHANNEL_PROVIDER,
    async send(messages) {
      const delivered = await bus.deliver(
        messages.map((message) => ({ token: message.token, event: JSON.stringify(channelEvent(message)) })),
      );
      let rings = 0;
      let others = 0;
      const results = messages.map((message, index) => {
        if (delivered[index] !== true) return offline;
        if (message.channel === 'ring') rings += 1;
        else others += 1;
        return written;
      });
      if (rings > 0) onDelivered('ring', rings);
      if (others > 0) onDelivered('message', others);
      return results;
    },
    async close() {},
  };
}
