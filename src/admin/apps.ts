import { createHash } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { SecretBox } from '../crypto/secret-box.js';
import type { AppsTable, Executor } from '../db/schema.js';
import { AppError } from '../errors.js';
import {
  appExists,
  deleteApp,
  findApp,
  findFlags,
  insertApp,
  listApps,
  updateApp,
  updateFlags,
} from './apps.repository.js';

/** How the admin API knows one provider's settings: checks them and says what may be shown. */
export interface ProviderSettingsSpec {
  /** An error message for settings the provider could not use, or undefined. */
  validate(settings: unknown): string | undefined;
  /** The non-secret part, shown by GET (ids, URLs); never a key or a password. */
  describe(settings: unknown): Record<string, unknown>;
}

export type AppMode = 'live' | 'inbox';

export interface ProviderFlag {
  reason: string;
  at: number;
}

/** An app with its provider settings decrypted, for the delivery worker. */
export interface App {
  bundleid: string;
  name: string;
  defaultLanguage: string;
  mode: AppMode;
  providers: Record<string, unknown>;
  /** A digest per provider's settings: adapters are rebuilt when it changes. */
  fingerprints: Record<string, string>;
  flags: Record<string, ProviderFlag>;
}

/** An app as the admin API shows it: secrets replaced by a fingerprint. */
export interface AppView {
  bundleid: string;
  name: string;
  default_language: string;
  mode: AppMode;
  providers: Record<string, Record<string, unknown> & { fingerprint: string; flagged: ProviderFlag | null }>;
  created_at: number;
  updated_at: number;
}

export interface AppChanges {
  name?: string | undefined;
  default_language?: string | undefined;
  mode?: AppMode | undefined;
  /** Per provider: settings to store, or null to remove them; absent providers are kept. */
  providers: Record<string, unknown>;
}

function fingerprint(settings: unknown): string {
  return createHash('sha256').update(JSON.stringify(settings)).digest('hex').slice(0, 16);
}

function decode(box: SecretBox, row: AppsTable): App {
  const providers =
    row.secrets === null ? {} : (JSON.parse(box.open(row.secrets)) as Record<string, unknown>);
  const fingerprints: Record<string, string> = {};
  for (const [provider, settings] of Object.entries(providers))
    fingerprints[provider] = fingerprint(settings);
  return {
    bundleid: row.bundleid,
    name: row.name,
    defaultLanguage: row.default_language,
    mode: row.mode,
    providers,
    fingerprints,
    flags: JSON.parse(row.flags) as Record<string, ProviderFlag>,
  };
}

function view(
  box: SecretBox,
  specs: Readonly<Record<string, ProviderSettingsSpec>>,
  row: AppsTable,
): AppView {
  const app = decode(box, row);
  const providers: AppView['providers'] = {};
  for (const [provider, settings] of Object.entries(app.providers)) {
    providers[provider] = {
      ...(specs[provider]?.describe(settings) ?? {}),
      fingerprint: app.fingerprints[provider] ?? '',
      flagged: app.flags[provider] ?? null,
    };
  }
  return {
    bundleid: row.bundleid,
    name: row.name,
    default_language: row.default_language,
    mode: row.mode,
    providers,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

/** The row an app has after `changes`; a provider given new settings loses its flag. */
function changedRow(
  box: SecretBox,
  bundleid: string,
  existing: AppsTable | undefined,
  changes: AppChanges,
  now: number,
): AppsTable {
  const current = existing === undefined ? undefined : decode(box, existing);
  const providers = { ...(current?.providers ?? {}) };
  const flags = { ...(current?.flags ?? {}) };
  for (const [provider, settings] of Object.entries(changes.providers)) {
    if (settings === null) delete providers[provider];
    else providers[provider] = settings;
    // New settings deserve a new chance: the flag was about the old ones.
    delete flags[provider];
  }
  return {
    bundleid,
    name: changes.name ?? existing?.name ?? bundleid,
    default_language: changes.default_language ?? existing?.default_language ?? 'en',
    mode: changes.mode ?? existing?.mode ?? 'live',
    settings: '{}',
    secrets: Object.keys(providers).length === 0 ? null : box.seal(JSON.stringify(providers)),
    flags: JSON.stringify(flags),
    created_at: existing?.created_at ?? now,
    updated_at: now,
  };
}

/** Refuses an unknown provider, or settings the provider could not use. */
function checkSettings(specs: Readonly<Record<string, ProviderSettingsSpec>>, changes: AppChanges): void {
  for (const [provider, settings] of Object.entries(changes.providers)) {
    const spec = specs[provider];
    if (spec === undefined) throw new AppError('FIELD_INVALID', { field: provider });
    if (settings === null) continue;
    const problem = spec.validate(settings);
    if (problem !== undefined)
      throw new AppError('INVALID_CREDENTIALS', { field: `${provider}: ${problem}` });
  }
}

/** How long the delivery path may use an app's settings without reading them again. */
const appCacheMs = 2_000;

export function createApps(deps: {
  db: Executor;
  clock: Clock;
  box: SecretBox;
  specs: Readonly<Record<string, ProviderSettingsSpec>>;
}) {
  const { db, clock, box, specs } = deps;
  const cache = new Map<string, { app: App | undefined; until: number }>();

  return {
    /** Creates or changes an app; returns its view and whether it was created. */
    async put(bundleid: string, changes: AppChanges): Promise<{ app: AppView; created: boolean }> {
      checkSettings(specs, changes);
      const now = clock.now();
      const result = await db.transaction().execute(async (trx) => {
        const existing = await findApp(trx, bundleid);
        const row = changedRow(box, bundleid, existing, changes, now);
        if (existing === undefined) await insertApp(trx, row);
        else await updateApp(trx, row);
        return { row, created: existing === undefined };
      });
      cache.delete(bundleid);
      return { app: view(box, specs, result.row), created: result.created };
    },

    async get(bundleid: string): Promise<AppView> {
      const row = await findApp(db, bundleid);
      if (row === undefined) throw new AppError('NOT_FOUND');
      return view(box, specs, row);
    },

    async list(): Promise<AppView[]> {
      return (await listApps(db)).map((row) => view(box, specs, row));
    },

    /** Whether the app exists now (not the delivery path's cached view). */
    exists(bundleid: string): Promise<boolean> {
      return appExists(db, bundleid);
    },

    async remove(bundleid: string): Promise<void> {
      const deleted = await deleteApp(db, bundleid);
      cache.delete(bundleid);
      if (!deleted) throw new AppError('NOT_FOUND');
    },

    /** The app with decrypted settings, cached briefly for the delivery path. */
    async load(bundleid: string, executor: Executor = db): Promise<App | undefined> {
      const now = clock.now();
      const cached = cache.get(bundleid);
      if (cached !== undefined && cached.until > now) return cached.app;
      const row = await findApp(executor, bundleid);
      const app = row === undefined ? undefined : decode(box, row);
      cache.set(bundleid, { app, until: now + appCacheMs });
      return app;
    },

    /** Records that a provider rejected the app's credentials (until they are replaced). */
    async flag(bundleid: string, provider: string, reason: string): Promise<void> {
      await db.transaction().execute(async (trx) => {
        const stored = await findFlags(trx, bundleid);
        if (stored === undefined) return;
        const flags = JSON.parse(stored) as Record<string, ProviderFlag>;
        flags[provider] = { reason, at: clock.now() };
        await updateFlags(trx, bundleid, JSON.stringify(flags));
      });
      cache.delete(bundleid);
    },

    /** The first start's app: the deployment's default bundle id, in inbox mode. */
    async ensureDefault(bundleid: string): Promise<boolean> {
      if (await appExists(db, bundleid)) return false;
      // Fails when another process created it first.
      return this.put(bundleid, { name: 'Default app', mode: 'inbox', providers: {} }).then(
        () => true,
        () => false,
      );
    },
  };
}

export type Apps = ReturnType<typeof createApps>;
