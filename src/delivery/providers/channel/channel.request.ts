import type { PushMessage } from '../adapter.js';

/** Names the event itself uses; a `data` key of the same name stays only inside `data`. */
const reserved = new Set(['id', 'channel', 'title', 'body', 'aps', 'data', 'expires_at']);

/**
 * The payload of an event frame (command 3): what the app needs to ring or show a message.
 * Lancens clients read `uid`, `device`, `type`, `guid`, … at the top level and the texts in
 * `aps` (reference/lancens-manual.md §3.5), so every `data` key is also copied to the top
 * level, and `aps` carries the texts as an APNs payload would.
 */
export function channelEvent(message: PushMessage): Record<string, unknown> {
  const event: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(message.data)) if (!reserved.has(key)) event[key] = value;
  event.id = message.deliveryId;
  event.channel = message.channel;
  event.title = message.title ?? '';
  event.body = message.body ?? '';
  event.aps = {
    alert: message.body ?? message.title ?? '',
    message: message.body ?? '',
    sound: message.sound ?? 'default',
    name: message.title ?? '',
  };
  event.data = message.data;
  event.expires_at = message.expiresAt;
  return event;
}
