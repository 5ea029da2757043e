import type { Static, TSchema } from 'typebox';
import type { Clock } from '../../clock.js';
import type { ProviderRequest, PushAdapter, PushMessage } from './adapter.js';
import type { AccessTokenStore } from './shared/access-tokens.js';
import type { ApnsJwtStore } from './shared/apns-jwts.js';
import { ProviderSettingsError } from './shared/errors.js';

export interface AdapterContext {
  clock: Clock;
  /** Where OAuth access tokens are cached: shared by every adapter of the process (or cluster). */
  accessTokens: AccessTokenStore;
  /** Where signed APNs JWTs are kept; default: this process's memory. */
  providerTokens?: ApnsJwtStore | undefined;
}

/** Settings ready for use, or the one problem that stops them, worded for an operator. */
export type SettingsCheck<S> = { ok: true; settings: S } | { ok: false; error: string };

/**
 * Everything Bellhop knows about one push provider, as its folder's `index.ts` declares it.
 * `T` is the schema of the app settings as the admin API takes and stores them; `S` is what
 * `parse` makes of them for the adapter.
 */
export interface ProviderModule<S, T extends TSchema = TSchema> {
  id: string;
  /** The shape of the app settings (`apns`, `fcm`, … in the admin API), for its OpenAPI document. */
  schema: T;
  /** Settings as stored → settings to use, or the problem (never containing a secret). */
  parse(input: unknown): SettingsCheck<S>;
  /** The non-secret part of stored settings, shown by GET (ids, URLs); never a key. */
  describe(input: Static<T>): Record<string, unknown>;
  /** A long-lived adapter for one app's settings. */
  createAdapter(settings: S, context: AdapterContext): PushAdapter;
  /** The exact request the provider would receive (inbox mode): settings may be absent or partial. */
  buildRequest(message: PushMessage, input: Partial<Static<T>> | undefined, now: number): ProviderRequest;
  /** What stored settings add to each of the app's messages (FCM: the Android channel); absent: nothing. */
  messageOptions?(input: Static<T>): Partial<Pick<PushMessage, 'androidChannelId'>>;
}

/** A provider as delivery and the admin API use it: settings come as stored, not yet parsed. */
export interface ProviderEntry {
  id: string;
  schema: TSchema;
  settings: {
    /** The problem of settings the provider cannot use, or undefined. */
    validate(settings: unknown): string | undefined;
    describe(settings: unknown): Record<string, unknown>;
  };
  /** Throws a `ProviderSettingsError` for settings `validate` refuses. */
  createAdapter(settings: unknown, context: AdapterContext): PushAdapter;
  buildRequest(message: PushMessage, settings: unknown, now: number): ProviderRequest;
  /** What the app's settings add to each of its messages (FCM: the Android channel); absent: nothing. */
  messageOptions?(settings: unknown): Partial<Pick<PushMessage, 'androidChannelId'>>;
}

export type ProviderCatalogue = Readonly<Record<string, ProviderEntry>>;

/** The catalogue entry of a module: stored settings go through its `parse` before its adapter. */
export function defineProvider<S, T extends TSchema>(module: ProviderModule<S, T>): ProviderEntry {
  return {
    id: module.id,
    schema: module.schema,
    settings: {
      validate(input) {
        const check = module.parse(input);
        return check.ok ? undefined : check.error;
      },
      // The admin API stores only settings `validate` accepted.
      describe: (input) => module.describe(input as Static<T>),
    },
    createAdapter: (input, context) =>
      module.createAdapter(settingsOrThrow(module.id, module.parse(input)), context),
    buildRequest: (message, input, now) =>
      module.buildRequest(
        message,
        typeof input === 'object' && input !== null ? (input as Partial<Static<T>>) : undefined,
        now,
      ),
    ...(module.messageOptions === undefined
      ? {}
      : { messageOptions: (input: unknown) => module.messageOptions?.(input as Static<T>) ?? {} }),
  };
}

/** The settings `check` accepts; throws a `ProviderSettingsError` with its problem otherwise. */
export function settingsOrThrow<S>(provider: string, check: SettingsCheck<S>): S {
  if (!check.ok) throw new ProviderSettingsError(provider, check.error);
  return check.settings;
}
