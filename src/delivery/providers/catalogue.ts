import type { TSchema } from 'typebox';
import type { ProviderSettingsSpec } from '../../admin/apps.js';
import type { Clock } from '../../clock.js';
import type { ProviderRequest, PushAdapter, PushMessage } from './adapter.js';
import type { AccessTokenStore } from './shared/access-tokens.js';
import type { ApnsJwtStore } from './shared/apns-jwts.js';

export interface AdapterContext {
  clock: Clock;
  /** Where OAuth access tokens are cached: shared by every adapter of the process (or cluster). */
  accessTokens: AccessTokenStore;
  /** Where signed APNs JWTs are kept; default: this process's memory. */
  providerTokens?: ApnsJwtStore | undefined;
}

/** Everything Bellhop knows about one push provider. */
export interface ProviderModule {
  id: string;
  /** The shape of the app settings, for validation and the OpenAPI document. */
  schema: TSchema;
  /** The app settings of this provider (`apns`, `fcm`, …) in the admin API. */
  settings: ProviderSettingsSpec;
  /** A long-lived adapter for one app's settings. */
  createAdapter(settings: unknown, context: AdapterContext): PushAdapter;
  /** The exact request the provider would receive; settings may be absent (inbox mode). */
  buildRequest(message: PushMessage, settings: unknown, now: number): ProviderRequest;
  /** What the app's settings add to each of its messages (FCM: the Android channel); absent: nothing. */
  messageOptions?(settings: unknown): Partial<Pick<PushMessage, 'androidChannelId'>>;
}

export type ProviderCatalogue = Readonly<Record<string, ProviderModule>>;

/** A catalogue entry's `settings.validate`: the problem `check` finds in the settings, or none. */
export function problemOf(check: (settings: unknown) => { ok: true } | { ok: false; error: string }) {
  return (settings: unknown): string | undefined => {
    const result = check(settings);
    return result.ok ? undefined : result.error;
  };
}
