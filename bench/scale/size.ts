/** (a) Registration and ring latency with a small, then a large registrations table. */
import { performance } from 'node:perf_hooks';
import { testApnsTokenCredentials } from '../../test/fakes/apns-fixtures.js';
import { bulkSeed } from '../lib/bulk-seed.js';
import type { ServerProcess } from '../lib/children.js';
import { bundle, call, hex, log, percentile, round, type ScaleBench, settings, sleep } from './context.js';

export interface SizeFigures {
  registrations: number;
  registrationP50Ms: number;
  registrationP99Ms: number;
  ringP50Ms: number;
  ringP99Ms: number;
}

let sample = 0;

/** Registrations one at a time by logged-in users: each one's latency. */
async function registrationLatencies(bench: ScaleBench, server: ServerProcess): Promise<number[]> {
  const latencies: number[] = [];
  for (let index = 0; index < settings.samples; index += 1) {
    const user = bench.registrants[index % bench.registrants.length];
    sample += 1;
    const began = performance.now();
    const answer = await call(
      server.url,
      'POST',
      '/v1/api/user/token',
      { push_token: hex(sample, 7), language: 'en', bundleid: bundle },
      { token: user?.token ?? '', authorization: '' },
    );
    latencies.push(performance.now() - began);
    if (answer.status !== 201)
      throw new Error(`registration: ${answer.status} ${JSON.stringify(answer.body)}`);
  }
  return latencies;
}

/** Rings to one user, one at a time: from the request to the fake receiving it. */
async function ringLatencies(bench: ScaleBench, server: ServerProcess): Promise<number[]> {
  const latencies: number[] = [];
  for (let index = 0; index < settings.rings + 5; index += 1) {
    const began = performance.now();
    const sent = await call(server.url, 'POST', '/v1/push', { channel: 'ring', users: [bench.ringUser] });
    const id = String(sent.body.id);
    const deadline = began + 10_000;
    while (!bench.arrivals.rings.has(id) && performance.now() < deadline) await sleep(1);
    const at = bench.arrivals.rings.get(id);
    if (at === undefined) throw new Error(`ring ${id} did not arrive`);
    if (index >= 5) latencies.push(at - began); // the first few warm connections up
    await sleep(20);
  }
  return latencies;
}

async function measure(bench: ScaleBench, label: string): Promise<SizeFigures> {
  const server = await bench.start(`bellhop-${label}`, 'all');
  const put = await call(server.url, 'PUT', `/v1/admin/apps/${bundle}`, {
    mode: 'live',
    apns: testApnsTokenCredentials(bench.fake),
  });
  if (put.status !== 201 && put.status !== 200) throw new Error(`PUT app: ${put.status}`);
  const registration = await registrationLatencies(bench, server);
  const ring = await ringLatencies(bench, server);
  await bench.stop();
  const counted = await bench.database.db
    .selectFrom('registrations')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirst();
  const figures = {
    registrations: Number(counted?.n ?? 0),
    registrationP50Ms: round(percentile(registration, 50)),
    registrationP99Ms: round(percentile(registration, 99)),
    ringP50Ms: round(percentile(ring, 50)),
    ringP99Ms: round(percentile(ring, 99)),
  };
  log(`  ${label}: ${JSON.stringify(figures)}`);
  return figures;
}

/** Grows the registrations table to BENCH_REGISTRATIONS, 100,000 at a time. */
async function growTo(bench: ScaleBench, present: number): Promise<void> {
  const seedStart = performance.now();
  const more = settings.registrations - present;
  for (let done = 0; done < more; done += 100_000) {
    await bulkSeed(bench.database, {
      bundleId: bundle,
      passwordHash: bench.passwordHash,
      groups: [
        {
          count: Math.min(100_000, more - done),
          channel: 'message',
          usernamePrefix: `scale_l${done}_`,
          token: (i) => hex(done + i, 2),
        },
      ],
    });
  }
  await bench.settle();
  log(
    `  seeded ${more.toLocaleString('en-US')} more registrations in ${round((performance.now() - seedStart) / 1000, 1)} s`,
  );
}

export async function latencyBySize(bench: ScaleBench) {
  log('\n(a) latency by database size');
  await bench.settle();
  const small = await measure(bench, 'small');
  await growTo(bench, small.registrations);
  const large = await measure(bench, 'large');
  const ratios = {
    registrationP99: round(large.registrationP99Ms / small.registrationP99Ms),
    ringP50: round(large.ringP50Ms / small.ringP50Ms),
    ringP99: round(large.ringP99Ms / small.ringP99Ms),
  };
  log(`  ratios large/small: ${JSON.stringify(ratios)} (target ≤ 1.2)`);
  return { small, large, ratios };
}
