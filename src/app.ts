import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify from 'fastify';
import { Type } from 'typebox';
import { accountsRoutes } from './accounts/accounts.routes.js';
import { createAccountsService } from './accounts/accounts.service.js';
import { createPasswordHasher } from './accounts/passwords.js';
import { SessionCache } from './accounts/session-cache.js';
import { createAuthThrottle } from './accounts/throttle.js';
import { type Clock, systemClock } from './clock.js';
import type { Config } from './config.js';
import type { DatabaseHandle } from './db/database.js';
import { installErrorHandlers } from './http/error-handler.js';
import { installMetrics } from './http/metrics.js';
import { ErrorBody } from './http/schemas.js';
import type { TypedApp } from './http/typed-app.js';
import { registryRoutes } from './registry/registry.routes.js';
import { createRegistryService } from './registry/registry.service.js';

export interface AppDeps {
  database: DatabaseHandle;
  clock?: Clock;
  /** `false` turns logging off (most tests). */
  logger?: false;
  /** Where log lines go instead of standard output. */
  logStream?: { write(line: string): void };
}

/** Where secrets can appear in a log line; pino replaces them with `[redacted]`. */
export const redactedPaths = [
  'req.headers.token',
  'req.headers.authorization',
  'req.headers.cookie',
  '*.password',
  '*.old_password',
  '*.new_password',
  '*.token',
  '*.reflash_key',
  '*.push_token',
  '*.os_token',
];

export const apiVersion = '0.1.0';

/** Builds the whole HTTP application; the server entry point and the tests boot the same thing. */
export async function buildApp(config: Config, deps: AppDeps): Promise<TypedApp> {
  const clock = deps.clock ?? systemClock;
  const app = Fastify({
    logger: deps.logger ?? {
      level: config.logLevel,
      redact: { paths: redactedPaths, censor: '[redacted]' },
      ...(deps.logStream === undefined ? {} : { stream: deps.logStream }),
    },
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy,
    return503OnClosing: true,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.decorateRequest('session', null);
  installErrorHandlers(app);

  // Clients send `content-type: application/json` on every call, DELETE and GET included:
  // an empty body then means "no body", not a parse error.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  // JSON is the only body type: anything else, `text/plain` included, is a 415.
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    void parseJson(request, text, done);
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Bellhop',
        version: apiVersion,
        description:
          'Account and push-token API compatible with the Lancens v1 manual. Errors are `{message, code}`: `message` keeps the manual’s wording.',
      },
      components: {
        securitySchemes: {
          token: { type: 'apiKey', in: 'header', name: 'token', description: 'the login token' },
          bearer: { type: 'http', scheme: 'bearer', description: 'the login token, as a bearer token' },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.addSchema(ErrorBody);

  const database = deps.database;
  const hasher = createPasswordHasher(config.passwords);
  const cache = new SessionCache(
    clock,
    config.sessions.cacheTtlSeconds * 1000,
    config.sessions.cacheMaxEntries,
  );
  const throttle = createAuthThrottle(clock, config.rateLimits);
  const accounts = createAccountsService({
    db: database.db,
    clock,
    hasher,
    cache,
    throttle,
    sessions: config.sessions,
  });
  const registry = createRegistryService({
    db: database.db,
    clock,
    maxPerChannel: config.registry.maxPerChannel,
    defaultBundleId: config.defaultBundleId,
  });

  installMetrics(app);
  const Status = Type.Object({ status: Type.String() });
  app.get(
    '/healthz',
    { schema: { tags: ['operations'], summary: 'The process is up', response: { 200: Status } } },
    () => ({
      status: 'ok',
    }),
  );
  app.get(
    '/readyz',
    {
      schema: {
        tags: ['operations'],
        summary: 'The database answers',
        response: { 200: Status, 503: ErrorBody },
      },
    },
    async (request, reply) => {
      try {
        await database.ping();
        return { status: 'ready' };
      } catch (error) {
        request.log.warn({ err: error }, 'database not ready');
        return reply.code(503).send({ message: 'database unavailable', code: 'SERVICE_UNAVAILABLE' });
      }
    },
  );
  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());

  accountsRoutes(app, accounts);
  registryRoutes(app, accounts, registry);
  return app;
}
