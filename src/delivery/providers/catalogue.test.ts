import { Type } from 'typebox';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../test/helpers/clock.js';
import { defineProvider } from './catalogue.js';
import { createMemoryAccessTokenStore } from './shared/access-tokens.js';
import { ProviderSettingsError } from './shared/errors.js';

const entry = defineProvider({
  id: 'example',
  schema: Type.Object({ key: Type.String(), url: Type.Optional(Type.String()) }),
  parse: (input) =>
    typeof (input as { key?: unknown }).key === 'string'
      ? { ok: true, settings: { key: (input as { key: string }).key.toUpperCase() } }
      : { ok: false, error: 'key is required' },
  describe: (input) => ({ url: input.url ?? null }),
  createAdapter: (settings) => ({ provider: settings.key, send: async () => [], close: async () => {} }),
  buildRequest: (_message, input) => ({
    method: 'POST',
    url: input?.url ?? 'https://default.invalid',
    headers: {},
    body: '',
  }),
});
const context = { clock: new ManualClock(0), accessTokens: createMemoryAccessTokenStore() };

describe('defineProvider', () => {
  it('gives the adapter the settings parse made, and refuses settings parse refuses', () => {
    expect(entry.createAdapter({ key: 'abc' }, context).provider).toBe('ABC');
    expect(() => entry.createAdapter({}, context)).toThrow(ProviderSettingsError);
    expect(() => entry.createAdapter({}, context)).toThrow('key is required');
    expect(entry.settings.validate({})).toBe('key is required');
    expect(entry.settings.validate({ key: 'abc' })).toBeUndefined();
    expect(entry.settings.describe({ key: 'abc' })).toEqual({ url: null });
  });

  it('builds the inbox request from settings as stored, partial or absent', () => {
    const message = {} as Parameters<typeof entry.buildRequest>[0];
    expect(entry.buildRequest(message, { url: 'https://proxy.invalid' }, 0).url).toBe(
      'https://proxy.invalid',
    );
    expect(entry.buildRequest(message, undefined, 0).url).toBe('https://default.invalid');
    expect(entry.buildRequest(message, 'not an object', 0).url).toBe('https://default.invalid');
  });
});
