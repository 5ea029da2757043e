import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../metrics.js';

/** Counts requests by route and status, and serves `/metrics`. */
export function installMetrics(
  app: FastifyInstance,
  metrics: Metrics,
  beforeScrape?: () => Promise<void>,
): void {
  app.addHook('onResponse', async (request, reply) => {
    // Unmatched URLs share one label, so that probing cannot create unbounded series.
    const labels = {
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status_code: String(reply.statusCode),
    };
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
  });

  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    await beforeScrape?.();
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
}
