/**
 * The contract between the delivery worker and a push provider. Every provider lives in
 * its own folder (`providers/<name>/`) and exports a factory returning a `PushAdapter`.
 */

export type Channel = 'ring' | 'message';

/** One notification to one phone, already localized and resolved to the provider's token. */
export interface PushMessage {
  /** Stable per delivery: sent as `apns-id` (a lowercase UUID) and kept across retries. */
  deliveryId: string;
  /** The provider's device token. */
  token: string;
  channel: Channel;
  /** The app (bundle id / package name). */
  bundleId: string;
  /** APNs only: which host the token belongs to. */
  environment: 'production' | 'sandbox' | null;
  title: string | undefined;
  body: string | undefined;
  /** String → string, passed to the app. */
  data: Record<string, string>;
  sound: string | undefined;
  badge: number | undefined;
  collapseId: string | undefined;
  /** Unix ms after which the message must not be delivered. */
  expiresAt: number;
  /** Android notification channel id for messages, from the app configuration. */
  androidChannelId: string | undefined;
}

/**
 * How a failed send is handled (reference/providers.md §8):
 * - `dead`: the token will never work again → the registration is removed;
 * - `retry`: transient → back off (honouring `retryAfterMs`) and try again;
 * - `creds`: our credentials are wrong → the app is flagged, the delivery fails;
 * - `bad_request`: our request is wrong → fails, not retried;
 * - `unreachable`: the device cannot be reached this way now (Bellhop's push channel: the
 *   phone is not connected) → the registration's fallback route is tried, else the
 *   delivery waits for the device until it expires.
 */
export type FailureClass = 'dead' | 'retry' | 'creds' | 'bad_request' | 'unreachable';

export type PushResult =
  | { ok: true; providerMessageId: string | undefined }
  | { ok: false; failure: FailureClass; reason: string; retryAfterMs?: number | undefined };

/** The exact HTTP request a provider would receive (what inbox mode stores). */
export interface ProviderRequest {
  method: 'POST';
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface PushAdapter {
  readonly provider: string;
  /**
   * For providers with a batch call: how many messages one `send` should carry to use it
   * fully (usually the tokens one request takes). The worker gathers messages to the same app
   * into sends of this size. Absent: one request per token, nothing to gather.
   */
  readonly batchSize?: number;
  /** One result per message, in order. Never throws for a provider answer or a network fault. */
  send(messages: readonly PushMessage[]): Promise<PushResult[]>;
  /** Closes connections; the adapter is not used afterwards. */
  close(): Promise<void>;
}
