import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, LogController } from 'fastify';
import type { Logger } from 'pino';
import { Type } from 'typebox';
import { accountsRoutes } from './accounts/accounts.routes.js';
import { adminRoutes } from './admin/admin.routes.js';
import { channelWebSocketRoutes } from './channel/websocket.js';
import type { Config } from './config.js';
import { deliveryRoutes, inboxRoutes } from './delivery/delivery.routes.js';
import { AppError } from './errors.js';
import { installErrorHandlers, sendError } from './http/error-handler.js';
import { installMetrics } from './http/metrics.js';
import { ErrorBody } from './http/schemas.js';
import type { TypedApp } from './http/typed-app.js';
import { identityRoutes } from './identity/identity.routes.js';
import { LazyChildLogger } from './logger.js';
import { registryRoutes } from './registry/registry.routes.js';
import type { Services } from './services.js';

export const apiVersion = '0.1.0';

/** Builds the whole HTTP application; the server entry point and the tests boot the same thing. */
export async function buildApp(config: Config, services: Services): Promise<TypedApp> {
  const app = Fastify({
    loggerInstance: services.logger as FastifyBaseLogger,
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy,
    return503OnClosing: true,
    // One access-log line per request (see installMetrics) instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: (logger, bindings, options) =>
      new LazyChildLogger(logger as Logger, bindings, options) as unknown as FastifyBaseLogger,
    // A URL the router cannot decode (bad percent-encoding, an over-long parameter) is an
    // unknown route in the catalogue's terms; Fastify's own answer would echo the URL.
    frameworkErrors: (error, _request, reply) => {
      void sendError(
        reply,
        new AppError(
          error.code === 'FST_ERR_BAD_URL' || error.code === 'FST_ERR_MAX_PARAM_LENGTH'
            ? 'ROUTE_NOT_FOUND'
            : 'MALFORMED_BODY',
        ),
      );
    },
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.decorateRequest('session', null);
  app.decorateRequest('apiKey', null);
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
          apiKey: {
            type: 'http',
            scheme: 'bearer',
            description: 'a server-to-server API key (scopes: admin, send)',
          },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.addSchema(ErrorBody);

  const { database, accounts, registry } = services;
  installMetrics(app, services.metrics, {
    logRequests: config.logRequests,
    beforeScrape: async () => {
      services.metrics.queueDepth.set(await services.worker.queueDepth());
    },
  });
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
        summary: 'The database (and Redis, in scale-out mode) answers',
        response: { 200: Status, 503: ErrorBody },
      },
    },
    async (request, reply) => {
      try {
        await database.ping();
      } catch (error) {
        request.log.warn({ err: error }, 'database not ready');
        return sendError(reply, new AppError('SERVICE_UNAVAILABLE'));
      }
      try {
        await services.pingRedis();
        return { status: 'ready' };
      } catch (error) {
        request.log.warn({ err: error }, 'Redis not ready');
        return sendError(reply, new AppError('SERVICE_UNAVAILABLE'));
      }
    },
  );
  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());

  await channelWebSocketRoutes(app, services.channel);
  accountsRoutes(app, accounts);
  identityRoutes(app, accounts, services.identity);
  app.addHook('onClose', async () => services.closeIdentity());
  registryRoutes(app, accounts, registry);
  deliveryRoutes(app, services.apiKeys, services.delivery, config.delivery.pushBodyLimitBytes);
  adminRoutes(app, {
    apiKeys: services.apiKeys,
    apps: services.apps,
    providerSchemas: Object.fromEntries(
      Object.entries(services.catalogue).map(([id, module]) => [id, module.schema]),
    ),
  });
  inboxRoutes(app, services.apiKeys, services.inbox);
  return app;
}
