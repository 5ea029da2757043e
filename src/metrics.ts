import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** The process's Prometheus metrics, created once and handed to whoever records them. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'bellhop_' });
  const registers = [registry];
  return {
    registry,
    httpRequests: new Counter({
      name: 'bellhop_http_requests_total',
      help: 'HTTP requests answered, by method, route and status',
      labelNames: ['method', 'route', 'status_code'] as const,
      registers,
    }),
    httpDuration: new Histogram({
      name: 'bellhop_http_request_duration_seconds',
      help: 'HTTP request latency, by method, route and status',
      labelNames: ['method', 'route', 'status_code'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    httpServerErrors: new Counter({
      name: 'bellhop_http_server_errors_total',
      help: 'HTTP answers 5xx by route and error code, except a 501 for a login provider not configured',
      labelNames: ['route', 'code'] as const,
      registers,
    }),
    httpNotConfigured: new Counter({
      name: 'bellhop_http_not_configured_total',
      help: 'HTTP answers 501 for a login provider this deployment has not configured, by route',
      labelNames: ['route'] as const,
      registers,
    }),
    deliveries: new Counter({
      name: 'bellhop_deliveries_total',
      help: 'Deliveries settled, by provider, channel and final status',
      labelNames: ['provider', 'channel', 'status'] as const,
      registers,
    }),
    deliveryRetries: new Counter({
      name: 'bellhop_delivery_retries_total',
      help: 'Delivery attempts rescheduled after a transient failure, by provider',
      labelNames: ['provider'] as const,
      registers,
    }),
    acceptToProvider: new Histogram({
      name: 'bellhop_delivery_accept_to_provider_seconds',
      help: 'From the send API accepting a notification to the provider accepting a delivery',
      labelNames: ['provider', 'channel'] as const,
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    queueDepth: new Gauge({
      name: 'bellhop_delivery_queue_depth',
      help: 'Deliveries waiting for a first or next attempt',
      registers,
    }),
    channelConnections: new Gauge({
      name: 'bellhop_channel_connections',
      help: 'Connections to the push channel held by this process, by transport (tls, websocket)',
      labelNames: ['transport'] as const,
      registers,
    }),
    channelClosed: new Counter({
      name: 'bellhop_channel_connections_closed_total',
      help: 'Push-channel connections closed, by transport and reason',
      labelNames: ['transport', 'reason'] as const,
      registers,
    }),
    channelFramesSent: new Counter({
      name: 'bellhop_channel_frames_sent_total',
      help: 'Frames written to push-channel connections, by command (heartbeat, token, event)',
      labelNames: ['command'] as const,
      registers,
    }),
    channelEvents: new Counter({
      name: 'bellhop_channel_events_delivered_total',
      help: 'Notifications delivered over the push channel, by channel (ring, message)',
      labelNames: ['channel'] as const,
      registers,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
