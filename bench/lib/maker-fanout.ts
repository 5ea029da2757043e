import { performance } from 'node:perf_hooks';
import type { DatabaseHandle } from '../../src/db/database.js';
import { HUAWEI_MAX_TOKENS } from '../../src/delivery/providers/huawei/huawei.request.js';
import { OPPO_MAX_BATCH } from '../../src/delivery/providers/oppo/oppo.request.js';
import { XIAOMI_MAX_REGIDS } from '../../src/delivery/providers/xiaomi/xiaomi.request.js';
import { startFakeHuawei } from '../../test/fakes/huawei-server.js';
import { startFakeOppo } from '../../test/fakes/oppo-server.js';
import { FAKE_XIAOMI_APP, startFakeXiaomi } from '../../test/fakes/xiaomi-server.js';
import { bulkSeed } from './bulk-seed.js';
import type { ServerProcess } from './children.js';

/**
 * The dispatch bench's maker phase: one `POST /v1/push` message to phones of three makers whose
 * push services take up to 1,000 tokens per request (Xiaomi MiPush, Huawei Push Kit, OPPO
 * PUSH), through one app holding all three makers' settings. The worker gathers each maker's
 * deliveries into batch calls; the phase counts the HTTP requests each fake receives against
 * the fewest possible, ceil(N / batch size), and the deliveries per second from the 202 to the
 * last token received.
 *
 * The fakes run in the bench process with `record: false` (counters only, any token accepted).
 * OPPO regIds carry their region (`oppoRegion`): they are all `CN_…` here, so every OPPO request
 * goes to the mainland-China host and none is split by region.
 */

/** The app of the maker phones (its own, so that the APNs app of the other phases stays as it is). */
export const MAKER_BUNDLE_ID = FAKE_XIAOMI_APP.packageName;

/** How much over the fewest requests a maker may get: ≤ 1.1 × N / batch size. */
export const MAKER_REQUEST_SLACK = 1.1;

type MakerId = 'xiaomi' | 'huawei' | 'oppo';

interface Maker {
  id: MakerId;
  label: string;
  /** `push_platform` of the registration call. */
  platform: string;
  /** Tokens per request: the adapter's `batchSize`. */
  batchSize: number;
  usernamePrefix: string;
  /** The phone's `os_token` (the maker's token, what the provider is addressed with). */
  token: (index: number) => string;
  phoneModel: string;
}

/** Tokens of realistic lengths, distinct per phone. */
const hex = (index: number) => index.toString(16).padStart(8, '0');
const makers: readonly Maker[] = [
  {
    id: 'xiaomi',
    label: 'Xiaomi',
    platform: 'XIAOMI',
    batchSize: XIAOMI_MAX_REGIDS,
    usernamePrefix: 'mi_',
    token: (index) => `mi${hex(index)}`.padEnd(64, 'Q'),
    phoneModel: '2211133C',
  },
  {
    id: 'huawei',
    label: 'Huawei',
    platform: 'HUAWEI',
    batchSize: HUAWEI_MAX_TOKENS,
    usernamePrefix: 'hw_',
    token: (index) => `IQAAAACy0${hex(index)}`.padEnd(132, 'A'),
    phoneModel: 'ALN-AL00',
  },
  {
    id: 'oppo',
    label: 'OPPO',
    platform: 'OPPO',
    batchSize: OPPO_MAX_BATCH,
    usernamePrefix: 'op_',
    // Mainland China: one host for all (see above).
    token: (index) => `CN_${hex(index)}`.padEnd(35, 'c'),
    phoneModel: 'PHN110',
  },
];

export interface MakerPhones {
  perMaker: number;
  /** The users, one phone each, interleaved round-robin: Xiaomi, Huawei, OPPO, Xiaomi, … */
  users: number[];
}

/** Seeds `perMaker` users per maker, each with one message-channel registration of that maker. */
export async function seedMakerPhones(
  database: DatabaseHandle,
  passwordHash: string,
  perMaker: number,
): Promise<MakerPhones> {
  const groups = await bulkSeed(database, {
    bundleId: MAKER_BUNDLE_ID,
    passwordHash,
    groups: makers.map((maker) => ({
      count: perMaker,
      channel: 'message',
      usernamePrefix: maker.usernamePrefix,
      token: (index: number) => `socket-${maker.token(index)}`,
      registration: (index: number) => ({
        os: 'Android',
        push_platform: maker.platform,
        os_token: maker.token(index),
        phone_model: maker.phoneModel,
      }),
    })),
  });
  const users: number[] = [];
  for (let index = 0; index < perMaker; index += 1) {
    for (const ids of groups) users.push(ids[index] as number);
  }
  return { perMaker, users };
}

/** What the phase needs of the bench script. */
export interface MakerFanOutContext<Cpu> {
  /** Starts a fresh Bellhop server on the bench's database. */
  startServer(): Promise<ServerProcess>;
  /** An admin API call to Bellhop. */
  api(
    base: string,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: Record<string, unknown> }>;
  /** Waits until every delivery of a notification has a final status. */
  waitSettled(
    server: ServerProcess,
    id: string,
    timeoutMs: number,
  ): Promise<{ counts: Record<string, number>; settledAt: number }>;
  /** Starts measuring the CPU of the server (and the others); calling the result stops it. */
  cpuMeter(serverPid: number): () => Cpu;
}

export interface MakerCount {
  maker: MakerId;
  label: string;
  phones: number;
  batchSize: number;
  /** HTTP send requests the maker's fake received (token / auth calls not counted). */
  requests: number;
  /** ceil(phones / batchSize). */
  fewestRequests: number;
  /** MAKER_REQUEST_SLACK × phones / batchSize. */
  maxRequests: number;
  tokens: number;
  /** Tokens of each request, in arrival order. */
  batches: number[];
}

export interface MakerFanOutReport<Cpu> {
  phonesPerMaker: number;
  users: number;
  targets: number;
  order: string;
  /** From issuing POST /v1/push to its 202. */
  acceptMs: number;
  /** From the 202 to the last fake receiving the last token. */
  seconds: number;
  perSecond: number;
  /** From the 202 until every delivery was recorded. */
  settledSeconds: number;
  counts: Record<string, number>;
  makers: MakerCount[];
  cpu: Cpu;
  serverWarnings: string[];
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

/** The three fakes, counters read as one table. */
async function startFakes() {
  const huawei = await startFakeHuawei({ record: false });
  const xiaomi = await startFakeXiaomi({ record: false });
  const oppo = await startFakeOppo({ record: false });
  let lastAt = Number.NaN;
  const batches: Record<MakerId, number[]> = { xiaomi: [], huawei: [], oppo: [] };
  const arrived = (maker: MakerId) => (received: { tokens: readonly string[] }) => {
    lastAt = performance.now();
    batches[maker].push(received.tokens.length);
  };
  huawei.on('request', arrived('huawei'));
  xiaomi.on('request', arrived('xiaomi'));
  oppo.on('request', arrived('oppo'));
  return {
    settings: {
      huawei: { ...huawei.settings(), message_channel_id: 'doorbell_alert' },
      xiaomi: xiaomi.credentials(),
      oppo: oppo.credentials(),
    },
    counters: (): Record<MakerId, { requests: number; tokens: number; batches: number }> => ({
      xiaomi: { requests: xiaomi.requestCount, tokens: xiaomi.regIdCount, batches: batches.xiaomi.length },
      huawei: {
        requests: huawei.sendRequests,
        tokens: huawei.tokensReceived,
        batches: batches.huawei.length,
      },
      oppo: {
        requests: oppo.counts.requests,
        tokens: oppo.counts.messagesAccepted,
        batches: batches.oppo.length,
      },
    }),
    /** Tokens per request of a maker, from the `from`-th request on. */
    batches: (maker: MakerId, from: number) => batches[maker].slice(from),
    /** performance.now() of the latest send request any fake received. */
    lastArrival: () => lastAt,
    close: () => Promise.all([huawei.close(), xiaomi.close(), oppo.close()]),
  };
}

/**
 * Sends one message to `users` and waits (polling the counters every 20 ms) until every fake has
 * received `perMaker` more tokens than before; then until Bellhop recorded every delivery.
 */
async function sendAndCount<Cpu>(
  context: MakerFanOutContext<Cpu>,
  server: ServerProcess,
  fakes: Awaited<ReturnType<typeof startFakes>>,
  users: readonly number[],
  perMaker: number,
) {
  const before = fakes.counters();
  const issued = performance.now();
  const sent = await context.api(server.url, 'POST', '/v1/push', {
    channel: 'message',
    users,
    title: 'Battery low',
    body: 'The front door camera battery is at 10%',
  });
  const accepted = performance.now();
  const meter = context.cpuMeter(server.pid);
  if (sent.status !== 202)
    throw new Error(`POST /v1/push answered ${sent.status} ${JSON.stringify(sent.body)}`);
  const delta = () => {
    const now = fakes.counters();
    return makers.map((maker) => ({
      maker,
      requests: now[maker.id].requests - before[maker.id].requests,
      tokens: now[maker.id].tokens - before[maker.id].tokens,
      batches: fakes.batches(maker.id, before[maker.id].batches),
    }));
  };
  const timeoutMs = 60_000 + users.length * 2;
  while (delta().some((count) => count.tokens < perMaker)) {
    if (performance.now() - accepted > timeoutMs) {
      const got = delta().map((count) => `${count.maker.label} ${count.tokens}`);
      throw new Error(`the fakes received ${got.join(', ')} of ${perMaker} tokens each in ${timeoutMs} ms`);
    }
    await sleep(20);
  }
  const lastAt = fakes.lastArrival();
  const cpu = meter();
  const settled = await context.waitSettled(server, String(sent.body.id), 120_000);
  return { issued, accepted, lastAt, cpu, settled, targets: Number(sent.body.targets), counts: delta() };
}

/** Phase (d): a fresh server, the fakes, a warm-up message, then the measured one. */
export async function measureMakerFanOut<Cpu>(
  context: MakerFanOutContext<Cpu>,
  phones: MakerPhones,
): Promise<MakerFanOutReport<Cpu>> {
  const fakes = await startFakes();
  try {
    const server = await context.startServer();
    try {
      const put = await context.api(server.url, 'PUT', `/v1/admin/apps/${MAKER_BUNDLE_ID}`, {
        name: 'Doorbell (Android)',
        mode: 'live',
        ...fakes.settings,
      });
      if (put.status !== 201 && put.status !== 200) {
        throw new Error(`PUT /v1/admin/apps answered ${put.status} ${JSON.stringify(put.body)}`);
      }
      // Warm-up: JIT, TLS connections and the makers' access tokens.
      const warmPerMaker = Math.min(100, phones.perMaker);
      await sendAndCount(context, server, fakes, phones.users.slice(0, warmPerMaker * 3), warmPerMaker);
      await sleep(500);

      const run = await sendAndCount(context, server, fakes, phones.users, phones.perMaker);
      const seconds = Math.max(1e-3, (run.lastAt - run.accepted) / 1000);
      const total = phones.users.length;
      return {
        phonesPerMaker: phones.perMaker,
        users: total,
        targets: run.targets,
        order: 'users interleaved round-robin: Xiaomi, Huawei, OPPO, Xiaomi, …',
        acceptMs: round(run.accepted - run.issued, 1),
        seconds: round(seconds, 3),
        perSecond: Math.round(total / seconds),
        settledSeconds: round((run.settled.settledAt - run.accepted) / 1000, 2),
        counts: run.settled.counts,
        makers: run.counts.map(({ maker, requests, tokens, batches }) => ({
          maker: maker.id,
          label: maker.label,
          phones: phones.perMaker,
          batchSize: maker.batchSize,
          requests,
          fewestRequests: Math.ceil(phones.perMaker / maker.batchSize),
          maxRequests: round((MAKER_REQUEST_SLACK * phones.perMaker) / maker.batchSize, 2),
          tokens,
          batches,
        })),
        cpu: run.cpu,
        serverWarnings: server.takeWarnings(),
      };
    } finally {
      await server.stop();
    }
  } finally {
    await fakes.close();
  }
}

/** The phase's targets, in the shape of the bench's other checks. */
export function makerChecks<Cpu>(
  report: MakerFanOutReport<Cpu>,
): Array<{ name: string; target: string; value: string; pass: boolean }> {
  const n = report.phonesPerMaker.toLocaleString('en-US');
  return [
    ...report.makers.map((count) => ({
      name: `${count.label} HTTP requests, one message to ${n} phones`,
      target: `<= ${count.maxRequests} (${MAKER_REQUEST_SLACK} × ${n} / ${count.batchSize})`,
      value: `${count.requests} (fewest ${count.fewestRequests}; ${count.tokens.toLocaleString('en-US')} tokens)`,
      pass: count.requests <= count.maxRequests && count.tokens === count.phones,
    })),
    {
      name: 'maker fan-out: every delivery sent, once',
      target: `${report.users.toLocaleString('en-US')} sent, each token once`,
      value: `${JSON.stringify(report.counts)}; tokens ${report.makers.map((count) => `${count.label} ${count.tokens}`).join(', ')}`,
      pass:
        report.counts.sent === report.users && report.makers.every((count) => count.tokens === count.phones),
    },
  ];
}

/** A sentence for the bench's summary. */
export function describeMakerFanOut<Cpu>(report: MakerFanOutReport<Cpu>): string {
  const requests = report.makers
    .map(
      (count) =>
        `${count.label} ${count.requests} (fewest ${count.fewestRequests}; tokens each ${count.batches.join(' ')})`,
    )
    .join(', ');
  return (
    `Maker phones: one message to ${report.phonesPerMaker.toLocaleString('en-US')} phones each of Xiaomi, Huawei and ` +
    `OPPO (batch ${report.makers.map((count) => count.batchSize).join('/')}; ${report.order}); HTTP requests ${requests}; ` +
    `all OPPO regIds CN_… (one host). The 202 took ${report.acceptMs} ms; every delivery recorded ` +
    `${report.settledSeconds} s after it.`
  );
}
