import type { PushAdapter } from './adapter.js';
import type { AdapterContext, ProviderCatalogue } from './catalogue.js';

/** An app as the pool sees it: its settings per provider, as stored, and a digest of each. */
export interface AppProviderSettings {
  bundleid: string;
  providers: Readonly<Record<string, unknown>>;
  /** Adapters are rebuilt when the digest of their settings changes. */
  fingerprints: Readonly<Record<string, string>>;
}

/**
 * One adapter per app and provider, built once for a set of settings and kept (with its
 * connections) until the settings change or the process stops.
 */
export function createAdapterPool(catalogue: ProviderCatalogue, context: AdapterContext) {
  const adapters = new Map<string, { fingerprint: string; adapter: PushAdapter }>();

  return {
    /** The adapter for the app's provider, or undefined when the app has no settings for it. */
    get(app: AppProviderSettings, provider: string): PushAdapter | undefined {
      const module = catalogue[provider];
      const settings = app.providers[provider];
      const fingerprint = app.fingerprints[provider];
      if (module === undefined || settings === undefined || fingerprint === undefined) return undefined;
      const key = `${app.bundleid}\u0000${provider}`;
      const current = adapters.get(key);
      if (current !== undefined && current.fingerprint === fingerprint) return current.adapter;
      if (current !== undefined) void current.adapter.close();
      const adapter = module.createAdapter(settings, context);
      adapters.set(key, { fingerprint, adapter });
      return adapter;
    },

    async closeAll(): Promise<void> {
      const open = [...adapters.values()];
      adapters.clear();
      await Promise.allSettled(open.map((entry) => entry.adapter.close()));
    },
  };
}

export type AdapterPool = ReturnType<typeof createAdapterPool>;
