import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, configVariables, loadConfig } from './config.js';

describe('configuration', () => {
  it('has working defaults: port 8080, SQLite under ./data, 30-day tokens', () => {
    const config = loadConfig({});
    expect(config.port).toBe(8080);
    expect(config.database).toEqual({ dialect: 'sqlite', file: './data/bellhop.db' });
    expect(config.sessions).toMatchObject({
      tokenTtlSeconds: 2_592_000,
      policy: 'multi',
      reflashGraceSeconds: 10,
    });
    expect(config.passwords).toMatchObject({ memoryKib: 19_456, iterations: 2 });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads PostgreSQL and SQLite URLs and the data directory', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://u@h:5432/db' }).database).toMatchObject({
      dialect: 'postgres',
      url: 'postgres://u@h:5432/db',
    });
    expect(loadConfig({ DATABASE_URL: 'sqlite:///var/lib/bellhop/x.db' }).database).toEqual({
      dialect: 'sqlite',
      file: '/var/lib/bellhop/x.db',
    });
    expect(loadConfig({ DATA_DIR: '/srv/bellhop/' }).database).toEqual({
      dialect: 'sqlite',
      file: '/srv/bellhop/bellhop.db',
    });
  });

  it('converts numbers and booleans and rejects nonsense with every problem named', () => {
    expect(loadConfig({ PORT: '9000', TRUST_PROXY: 'yes', SESSION_POLICY: 'single' })).toMatchObject({
      port: 9000,
      trustProxy: true,
      sessions: { policy: 'single' },
    });
    expect(() => loadConfig({ PORT: 'eighty', SESSION_POLICY: 'many', DATABASE_URL: 'mysql://x' })).toThrow(
      ConfigError,
    );
    try {
      loadConfig({ PORT: 'eighty', SESSION_POLICY: 'many', DATABASE_URL: 'mysql://x' });
    } catch (error) {
      const message = String(error);
      for (const name of ['PORT', 'SESSION_POLICY', 'DATABASE_URL']) expect(message).toContain(name);
    }
  });

  it('leaves every login provider off by default and reads each one when configured', () => {
    const off = loadConfig({}).identity;
    expect([off.weixin, off.facebook, off.apple, off.google]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .privateKey.export({ format: 'pem', type: 'pkcs8' })
      .toString();
    const identity = loadConfig({
      WEIXIN_APP_ID: 'wx123',
      WEIXIN_APP_SECRET: 's',
      WEIXIN_API_URL: 'http://127.0.0.1:9/',
      APPLE_AUDIENCES: ' com.example.a , com.example.b,',
      APPLE_TEAM_ID: 'TEAMID1234',
      APPLE_KEY_ID: 'KEYID12345',
      APPLE_PRIVATE_KEY: pem.replace(/\n/g, '\\n'),
      GOOGLE_CLIENT_IDS: 'a.apps.googleusercontent.com',
    }).identity;
    expect(identity.weixin).toMatchObject({
      appId: 'wx123',
      apiUrl: 'http://127.0.0.1:9',
      codeCacheSeconds: 300,
    });
    expect(identity.apple?.audiences).toEqual(['com.example.a', 'com.example.b']);
    expect(identity.apple?.signing?.privateKey).toBe(pem);
    expect(identity.google?.clientIds).toEqual(['a.apps.googleusercontent.com']);
  });

  it('refuses half-configured providers and unreadable keys, naming them', () => {
    const problems = (raw: Record<string, string>) => {
      try {
        loadConfig(raw);
        return '';
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return String(error);
      }
    };
    expect(problems({ WEIXIN_APP_ID: 'wx123' })).toContain('WEIXIN_APP_ID and WEIXIN_APP_SECRET');
    expect(problems({ FACEBOOK_APP_SECRET: 'x' })).toContain('FACEBOOK_APP_ID and FACEBOOK_APP_SECRET');
    expect(problems({ APPLE_AUDIENCES: 'a', APPLE_TEAM_ID: 'TEAMID1234' })).toContain('go together');
    expect(
      problems({
        APPLE_AUDIENCES: 'a',
        APPLE_TEAM_ID: 'TEAMID1234',
        APPLE_KEY_ID: 'KEYID12345',
        APPLE_PRIVATE_KEY: 'nope',
      }),
    ).toContain('APPLE_PRIVATE_KEY');
    expect(problems({ LOGIN_PROVIDER_CA_FILE: '/nonexistent/ca.pem' })).toContain('LOGIN_PROVIDER_CA_FILE');
  });

  it('names every problem at once: the schema, settings that go together, and the channel timings', () => {
    let message = '';
    try {
      loadConfig({
        PORT: 'eighty',
        CHANNEL_TLS_CERT: '/etc/bellhop/cert.pem',
        CHANNEL_HEARTBEAT_MS: '200000',
        WEIXIN_APP_ID: 'wx0123456789',
      });
    } catch (error) {
      message = error instanceof ConfigError ? error.message : '';
    }
    for (const named of [
      'PORT:',
      'CHANNEL_TLS_CERT and CHANNEL_TLS_KEY go together',
      'longer than CHANNEL_HEARTBEAT_MS',
      'WEIXIN_APP_ID and WEIXIN_APP_SECRET go together',
    ])
      expect(message).toContain(named);
  });

  it('configures the push channel: port 11001, a heartbeat a minute, certificate and key together', () => {
    expect(loadConfig({}).channel).toEqual({
      port: 11001,
      tlsCert: undefined,
      tlsKey: undefined,
      heartbeatMs: 60_000,
      idleTimeoutMs: 180_000,
      registerTimeoutMs: 10_000,
      handshakeTimeoutMs: 10_000,
    });
    expect(loadConfig({ CHANNEL_PORT: '0' }).channel.port).toBe(0);
    expect(() => loadConfig({ CHANNEL_TLS_CERT: '/etc/bellhop/cert.pem' })).toThrow(/set both or neither/);
    expect(() => loadConfig({ CHANNEL_HEARTBEAT_MS: '200000' })).toThrow(/longer than CHANNEL_HEARTBEAT_MS/);
  });

  it('has every variable in .env.example, the one full list', () => {
    const example = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');
    const listed = new Set([...example.matchAll(/^#? ?([A-Z][A-Z0-9_]+)=/gm)].map((match) => match[1]));
    expect(configVariables.filter((name) => !listed.has(name))).toEqual([]);
  });
});
