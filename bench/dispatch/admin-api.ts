/** HTTP to Bellhop with the admin key (keep-alive, so that ring latency has no TCP handshake). */
import { Agent, request as httpRequest } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { ServerProcess } from '../lib/children.js';
import { sleep } from '../lib/harness.js';
import { adminKey } from './settings.js';

export const agent = new Agent({ keepAlive: true, maxSockets: 64 });

export interface ApiAnswer {
  status: number;
  body: Record<string, unknown>;
}

export function api(base: string, method: string, path: string, body?: unknown): Promise<ApiAnswer> {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const url = new URL(path, base);
  return new Promise<ApiAnswer>((resolve, reject) => {
    const request = httpRequest(
      url,
      {
        method,
        agent,
        headers: {
          authorization: `Bearer ${adminKey}`,
          ...(payload === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': String(payload.length) }),
        },
        timeout: 120_000,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: Record<string, unknown> = {};
          try {
            parsed = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
          } catch {
            parsed = { raw: text };
          }
          resolve({ status: response.statusCode ?? 0, body: parsed });
        });
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error(`${method} ${path}: timed out`)));
    request.on('error', reject);
    request.end(payload);
  });
}

/** Polls GET /v1/push/<id> until every delivery has a final status; the counts by status. */
export async function waitSettled(
  server: ServerProcess,
  id: string,
  timeoutMs: number,
): Promise<{ counts: Record<string, number>; settledAt: number }> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const view = await api(server.url, 'GET', `/v1/push/${id}?limit=1`);
    if (view.status !== 200)
      throw new Error(`GET /v1/push/${id}: ${view.status} ${JSON.stringify(view.body)}`);
    if (view.body.state !== 'pending') {
      return { counts: view.body.counts as Record<string, number>, settledAt: performance.now() };
    }
    if (performance.now() > deadline) {
      throw new Error(
        `notification ${id} still pending after ${timeoutMs} ms: ${JSON.stringify(view.body.counts)}`,
      );
    }
    await sleep(100);
  }
}
