import type { App } from '../../admin/apps.js';
import type { NotificationContent } from '../delivery.service.js';
import { localize } from '../localization.js';
import type { PushMessage } from '../providers/adapter.js';
import type { ProviderEntry } from '../providers/catalogue.js';
import type { ClaimedDelivery } from './worker.repository.js';

/** What the app's settings of a provider add to every message (through the provider's module). */
export type MessageOptions = Partial<Pick<PushMessage, 'androidChannelId'>>;

export function messageOptionsOf(
  app: App | undefined,
  provider: string,
  module: ProviderEntry | undefined,
): MessageOptions {
  const settings = app?.providers[provider];
  if (settings === undefined || module?.messageOptions === undefined) return {};
  return module.messageOptions(settings);
}

/**
 * Parses notification contents once per notification of a group: a fan-out hands many
 * deliveries of one notification to one call.
 */
export function createContentCache(): (row: ClaimedDelivery) => NotificationContent {
  const contents = new Map<string, NotificationContent>();
  return (row) => {
    let content = contents.get(row.notification_id);
    if (content === undefined) {
      content = JSON.parse(row.content) as NotificationContent;
      contents.set(row.notification_id, content);
    }
    return content;
  };
}

/** The message a provider gets for one claimed delivery: localized, with the ring's id. */
export function toMessage(
  row: ClaimedDelivery,
  content: NotificationContent,
  app: App | undefined,
  options: MessageOptions,
): PushMessage {
  const text = localize(content, row.language, app?.defaultLanguage ?? 'en');
  const data =
    row.channel === 'ring' && row.kind === 'send'
      ? { ...content.data, ring_id: row.notification_id }
      : content.data;
  return {
    deliveryId: row.id,
    token: row.token,
    channel: row.channel,
    bundleId: row.bundleid,
    environment: row.environment === 'sandbox' ? 'sandbox' : row.environment === null ? null : 'production',
    title: text.title,
    body: text.body,
    data,
    sound: content.sound,
    badge: content.badge,
    collapseId: row.collapse_id ?? (row.channel === 'ring' ? row.notification_id : undefined),
    expiresAt: row.expires_at,
    androidChannelId: options.androidChannelId,
  };
}
