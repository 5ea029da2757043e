/**
 * The baseline sender of bench/dispatch.ts, in a process of its own as Bellhop is: a plain
 * node:http2 APNs client (bench/lib/apns-client.ts) that connects, warms up, then on "go"
 * sends `count` alert pushes straight to the fake APNs and reports.
 *
 * Run by the bench with `fork` (IPC): it receives a BaselineStart, answers {type: 'ready'},
 * receives {type: 'go'}, answers {type: 'done', result}. It exits when the bench disconnects.
 */
import {
  apnsFixtures,
  TEST_APNS_BUNDLE_ID,
  TEST_APNS_KEY_ID,
  TEST_APNS_TEAM_ID,
} from '../test/fakes/apns-fixtures.js';
import { alertHeaders, apnsJwt, PlainApnsClient, type PlainRunResult } from './lib/apns-client.js';

export interface BaselineStart {
  type: 'start';
  url: string;
  ca: string;
  connections: number;
  maxStreamsPerConnection: number;
  count: number;
  warmup: number;
  /** Put in every payload (`bench`), so that the fake's listener recognises the run. */
  marker: string;
  warmupMarker: string;
  title: string;
  body: string;
}

export type BaselineReply =
  | { type: 'ready'; warmup: PlainRunResult }
  | { type: 'done'; result: PlainRunResult }
  | { type: 'error'; message: string };

/** The device token of the baseline's `index`-th push: 64 hex digits, like an iPhone's. */
export function baselineToken(index: number): string {
  return `ba5e${index.toString(16).padStart(12, '0')}`.padEnd(64, 'c');
}

const reply = (message: BaselineReply) => process.send?.(message);

async function run(start: BaselineStart): Promise<void> {
  const jwt = apnsJwt({ teamId: TEST_APNS_TEAM_ID, keyId: TEST_APNS_KEY_ID, p8: apnsFixtures.signingKey });
  const client = new PlainApnsClient({
    url: start.url,
    ca: start.ca,
    jwt,
    connections: start.connections,
    maxStreamsPerConnection: start.maxStreamsPerConnection,
  });
  await client.connect();
  const expiresAt = Date.now() + 86_400_000;
  const bodyOf = (marker: string) =>
    JSON.stringify({ aps: { alert: { title: start.title, body: start.body } }, bench: marker });
  const warmBody = bodyOf(start.warmupMarker);
  const warmup = await client.run(start.warmup, (index) => ({
    token: baselineToken(start.count + index),
    headers: alertHeaders(TEST_APNS_BUNDLE_ID, expiresAt),
    body: warmBody,
  }));
  const body = bodyOf(start.marker);
  await new Promise<void>((resolve) => {
    const onGo = (message: unknown) => {
      if ((message as { type?: unknown }).type !== 'go') return;
      process.off('message', onGo);
      resolve();
    };
    process.on('message', onGo);
    reply({ type: 'ready', warmup });
  });
  const result = await client.run(start.count, (index) => ({
    token: baselineToken(index),
    headers: alertHeaders(TEST_APNS_BUNDLE_ID, expiresAt),
    body,
  }));
  reply({ type: 'done', result });
  await client.close();
}

process.on('disconnect', () => process.exit(0));
process.once('message', (message: unknown) => {
  run(message as BaselineStart).catch((error: unknown) => {
    reply({
      type: 'error',
      message: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
  });
});
