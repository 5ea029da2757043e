import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../metrics.js';
import { errorCodeOf } from './error-handler.js';

/**
 * Counts requests by route and status (5xx apart: the server's errors, and the 501s of login
 * providers not configured), writes one access-log line per request (when `logRequests`), and
 * serves `/metrics`.
 */
export function installMetrics(
  app: FastifyInstance,
  metrics: Metrics,
  options: { logRequests: boolean; beforeScrape?: () => Promise<void> },
): void {
  app.addHook('onResponse', (request, reply, done) => {
    // Unmatched URLs share one label, so that probing cannot create unbounded series.
    const route = request.routeOptions.url ?? 'unmatched';
    const labels = { method: request.method, route, status_code: String(reply.statusCode) };
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
    if (reply.statusCode >= 500) {
      const code = errorCodeOf(request) ?? 'none';
      if (code === 'PROVIDER_NOT_CONFIGURED') metrics.httpNotConfigured.inc({ route });
      else metrics.httpServerErrors.inc({ route, code });
    }
    if (options.logRequests) {
      // The route pattern, not the URL: no user data ends up in the log.
      const ms = Math.round(reply.elapsedTime * 10) / 10;
      request.log.info({ method: request.method, route, status: reply.statusCode, ms }, 'request');
    }
    done();
  });

  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    await options.beforeScrape?.();
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
}
