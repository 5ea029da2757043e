import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKeys } from '../../src/admin/api-keys.js';
import { buildApp } from '../../src/app.js';
import {
  createTestApp,
  createTestDatabase,
  createTestServices,
  json,
  registerUser,
  type TestApp,
  testDialects,
} from '../helpers/app.js';
import { assertErrorResponse, expectedError } from '../helpers/error-contract.js';

describe.each(testDialects())('operations on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(async () => t.close());

  it('stores a configured admin key once when processes start with it at the same moment', async () => {
    const apiKeys = createApiKeys({ db: t.database.handle.db, clock: t.clock });
    const key = `bh_${'k'.repeat(40)}`;
    const started = await Promise.all([1, 2, 3].map(() => apiKeys.bootstrap(key)));
    expect(started.filter((created) => created !== undefined)).toHaveLength(1);
    const stored = await t.database.handle.db
      .selectFrom('api_keys')
      .select('name')
      .where('name', '=', 'bootstrap (BELLHOP_ADMIN_KEY)')
      .execute();
    expect(stored).toHaveLength(1);
    await expect(apiKeys.authorize(key, 'admin')).resolves.toMatchObject({ scopes: ['admin'] });
  });

  it('answers /healthz and /readyz', async () => {
    expect(json(await t.app.inject({ method: 'GET', url: '/healthz' }))).toEqual({ status: 'ok' });
    const ready = await t.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(json(ready)).toEqual({ status: 'ready' });
  });

  it('counts requests by route and status in /metrics', async () => {
    await t.app.inject({ method: 'GET', url: '/v1/api/user/token' });
    await t.app.inject({ method: 'GET', url: '/no/such/route' });
    const metrics = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.headers['content-type']).toContain('text/plain');
    expect(metrics.body).toMatch(
      /bellhop_http_requests_total\{method="GET",route="\/v1\/api\/user\/token",status_code="401"\} 1/,
    );
    expect(metrics.body).toMatch(
      /bellhop_http_requests_total\{method="GET",route="unmatched",status_code="404"\} 1/,
    );
    expect(metrics.body).toContain('bellhop_http_request_duration_seconds_bucket{');
  });

  it('publishes an OpenAPI 3.1 document generated from the routes, and a docs page', async () => {
    const document = json<{ openapi: string; paths: Record<string, Record<string, unknown>> }>(
      await t.app.inject({ method: 'GET', url: '/openapi.json' }),
    );
    expect(document.openapi).toBe('3.1.0');
    for (const [path, methods] of Object.entries({
      '/v1/api/user': ['post', 'get', 'delete'],
      '/v1/api/user/login': ['post'],
      '/v1/api/user/reflash': ['post'],
      '/v1/api/user/refresh': ['post'],
      '/v1/api/user/logout': ['post'],
      '/v1/api/user/password': ['put'],
      '/v1/api/user/token': ['post', 'get', 'delete'],
      '/v1/api/user/token/{seq}': ['put', 'delete'],
      '/v1/api/user/message/token': ['post', 'get', 'delete'],
      '/v1/api/user/message/token/{seq}': ['put', 'delete'],
    })) {
      expect(Object.keys(document.paths[path] ?? {}).sort(), path).toEqual([...methods].sort());
    }
    const docs = await t.app.inject({ method: 'GET', url: '/docs/' });
    expect(docs.statusCode).toBe(200);
    expect(docs.headers['content-type']).toContain('text/html');
  });
});

describe.each(testDialects())('readiness and logs on %s', (dialect) => {
  it('reports 503 on /readyz when the database is gone', async () => {
    const database = await createTestDatabase(dialect);
    const services = createTestServices(database);
    const app = await buildApp(services.config, services);
    try {
      await database.drop();
      const response = await app.inject({ method: 'GET', url: '/readyz' });
      expect(response.statusCode).toBe(503);
      // The catalogue's wording: which part is down is in the log, not in the answer.
      expect(assertErrorResponse(response)).toEqual(expectedError('SERVICE_UNAVAILABLE').body);
    } finally {
      await app.close();
    }
  });

  it('says once, at warn and without a stack, that a login provider is not configured, and counts its 501s apart from server errors', async () => {
    const database = await createTestDatabase(dialect);
    const lines: string[] = [];
    const services = createTestServices(
      database,
      { LOG_LEVEL: 'info' },
      { logStream: { write: (line: string) => lines.push(line) } },
    );
    const app = await buildApp(services.config, services);
    try {
      for (let i = 0; i < 3; i += 1) {
        const response = await app.inject({
          method: 'POST',
          url: '/v1/api/user/weixin/app/login',
          payload: { code: 'a-code' },
        });
        expect(assertErrorResponse(response)).toEqual(
          expectedError('PROVIDER_NOT_CONFIGURED', 'weixin').body,
        );
      }
      const entries = lines.map((line) => JSON.parse(line) as { level: number; msg: string; err?: unknown });
      expect(entries.filter((entry) => entry.level >= 50)).toEqual([]);
      const warnings = entries.filter((entry) => entry.level === 40);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]?.msg).toContain('weixin login is not configured');
      expect(warnings[0]?.err).toBeUndefined();
      const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
      expect(metrics).toContain('bellhop_http_not_configured_total{route="/v1/api/user/weixin/app/login"} 3');
      expect(metrics).not.toMatch(/^bellhop_http_server_errors_total\{/m);
    } finally {
      await app.close();
      await database.drop();
    }
  });

  it('never writes passwords or tokens to the log', async () => {
    const database = await createTestDatabase(dialect);
    const lines: string[] = [];
    const services = createTestServices(
      database,
      { LOG_LEVEL: 'trace' },
      { logStream: { write: (line: string) => lines.push(line) } },
    );
    const app = await buildApp(services.config, services);
    try {
      const user = await registerUser(app, { password: 'secret password 123' });
      await app.inject({
        method: 'POST',
        url: '/v1/api/user/reflash',
        payload: { reflash_key: user.reflash_key },
      });
      await app.inject({
        method: 'POST',
        url: '/v1/api/user/token',
        headers: { token: user.token, authorization: `Bearer ${user.token}` },
        payload: { push_token: 'device-push-token-1234', language: 'en', os_token: 'maker-token-5678' },
      });
      await app.inject({
        method: 'POST',
        url: '/v1/api/user/logout',
        payload: { username: user.username, token: user.token },
      });
      const log = lines.join('');
      // One access-log line per request, with the route pattern and no user data.
      const accessLines = lines.filter((line) => line.includes('"msg":"request"'));
      expect(accessLines).toHaveLength(4);
      // Each names its request, so that a request's other lines can be found.
      expect(new Set(accessLines.map((line) => /"reqId":"([^"]+)"/.exec(line)?.[1])).size).toBe(4);
      expect(log).toContain('"route":"/v1/api/user/token"');
      for (const secret of [
        'secret password 123',
        user.token,
        user.reflash_key,
        'device-push-token-1234',
        'maker-token-5678',
      ]) {
        expect(log).not.toContain(secret);
      }
    } finally {
      await app.close();
      await database.drop();
    }
  });
});
