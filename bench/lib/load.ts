import { createHistogram } from 'node:perf_hooks';
import autocannon from 'autocannon';
import type { SeededUser } from './seed.js';

export const registrationPath = '/v1/api/user/token';
export const loginPath = '/v1/api/user/login';

/** A small deterministic PRNG (mulberry32), so that two runs send the same bodies. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function text(random: () => number, alphabet: string, length: number): string {
  let result = '';
  for (let i = 0; i < length; i += 1) result += alphabet[Math.floor(random() * alphabet.length)];
  return result;
}

const hex = '0123456789abcdef';
const base64url = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const languages = ['en', 'zh_CN', 'zh-Hant-TW', 'de-DE', 'fr', 'es-ES', 'ja', 'en-GB'];

/**
 * The registration body of a real phone, as in the manual: every field sent. A user's phones
 * are iPhones (APNs token), Huawei phones (app token + HMS maker token) or other Androids (FCM).
 */
function registrationBody(random: () => number, language: string): string {
  const kind = random();
  if (kind < 0.45) {
    return JSON.stringify({
      push_token: text(random, hex, 64),
      language,
      bundleid: 'com.example.doorbell',
      os: 'iOS',
      os_token: '',
      push_platform: '',
      dev: random() < 0.1 ? 1 : 0,
      phone_model: 'iPhone15,3',
    });
  }
  if (kind < 0.75) {
    return JSON.stringify({
      push_token: text(random, base64url, 43),
      language,
      bundleid: 'com.example.doorbell',
      os: 'Android',
      os_token: `IQAAAACy0${text(random, base64url, 121)}`,
      push_platform: 'HUAWEI',
      dev: 0,
      phone_model: 'HUAWEI P40 Pro',
    });
  }
  return JSON.stringify({
    push_token: `${text(random, base64url, 22)}:APA91b${text(random, base64url, 134)}`,
    language,
    bundleid: 'com.example.doorbell',
    os: 'Android',
    os_token: '',
    push_platform: 'FCM',
    dev: 0,
    phone_model: 'Pixel 7',
  });
}

export interface RegistrationWorkload {
  users: number;
  tokensPerUser: number;
  /** Body of the user's n-th phone token at `user * tokensPerUser + n`. */
  bodies: string[];
  /** Per user: content type and the session's login token. */
  headers: Array<Record<string, string>>;
  /** 1 once a request for that (user, token) was sent to Bellhop: later ones take the update path. */
  sent: Uint8Array;
}

export function registrationWorkload(
  users: readonly SeededUser[],
  tokensPerUser: number,
): RegistrationWorkload {
  const random = prng(0x5eed);
  const bodies: string[] = [];
  for (let user = 0; user < users.length; user += 1) {
    const language = languages[Math.floor(random() * languages.length)] ?? 'en';
    for (let slot = 0; slot < tokensPerUser; slot += 1) bodies.push(registrationBody(random, language));
  }
  return {
    users: users.length,
    tokensPerUser,
    bodies,
    headers: users.map((user) => ({ 'content-type': 'application/json', token: user.token })),
    sent: new Uint8Array(users.length * tokensPerUser),
  };
}

export interface PathCounts {
  /** Requests for a (user, token) never sent before: Bellhop inserts a row. */
  inserts: number;
  /** Requests for a token the user registered before: Bellhop updates the row. */
  updates: number;
}

/**
 * The autocannon request for the registration load. `random`: each request picks a user (its
 * session token) and one of that user's few push tokens, from a PRNG seeded with `seed` so that
 * two runs of the bench send the same sequence. `sequential`: user 0, 1, 2, … with their first
 * token, so that a warm-up run logs every session into the server's cache once.
 * `counts`, when given, records which requests took the insert and which the update path.
 */
export function registrationRequest(
  workload: RegistrationWorkload,
  options: { mode: 'random' | 'sequential'; seed?: number; counts?: PathCounts },
): autocannon.Request {
  const { mode, counts } = options;
  let sequence = 0;
  const random = prng(options.seed ?? 1);
  return {
    method: 'POST',
    path: registrationPath,
    setupRequest: (request) => {
      const user = mode === 'random' ? Math.floor(random() * workload.users) : sequence++ % workload.users;
      const slot = mode === 'random' ? Math.floor(random() * workload.tokensPerUser) : 0;
      const index = user * workload.tokensPerUser + slot;
      if (counts !== undefined) {
        if (workload.sent[index] === 1) counts.updates += 1;
        else counts.inserts += 1;
        workload.sent[index] = 1;
      }
      // A copy: autocannon writes Content-Length into the headers object it is given.
      request.headers = { ...workload.headers[user] };
      request.body = workload.bodies[index];
      return request;
    },
  };
}

/** The autocannon request for the login load: a random seeded user with the right password. */
export function loginRequest(users: readonly SeededUser[], password: string): autocannon.Request {
  const bodies = users.map((user) => JSON.stringify({ username: user.username, password }));
  const random = prng(0x1061);
  return {
    method: 'POST',
    path: loginPath,
    headers: { 'content-type': 'application/json' },
    setupRequest: (request) => {
      request.body = bodies[Math.floor(random() * bodies.length)];
      return request;
    },
  };
}

export interface LoadResult {
  /** Seconds from the first request to the end of the run. */
  seconds: number;
  requests: number;
  ok: number;
  /** Responses with a status other than `expectedStatus`, by status. */
  unexpected: Record<string, number>;
  errors: number;
  timeouts: number;
  /** Expected-status responses per second. */
  rps: number;
  /** Latency of every response, in milliseconds (microsecond resolution). */
  latency: { p50: number; p90: number; p99: number; max: number; mean: number };
}

export interface RunningLoad {
  stop(): void;
  done: Promise<LoadResult>;
}

/**
 * Runs autocannon in this process. Latencies are also recorded here at microsecond resolution
 * (autocannon's own histogram has a 1 ms step, too coarse to compare p99s of a few ms).
 */
export function startLoad(options: {
  url: string;
  request: autocannon.Request;
  connections: number;
  duration?: number;
  amount?: number;
  expectedStatus: number;
  title: string;
}): RunningLoad {
  const histogram = createHistogram();
  const unexpected: Record<string, number> = {};
  let ok = 0;
  const started: { instance?: autocannon.Instance } = {};
  const done = new Promise<LoadResult>((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        title: options.title,
        connections: options.connections,
        pipelining: 1,
        timeout: 30,
        requests: [options.request],
        ...(options.amount === undefined ? { duration: options.duration ?? 10 } : { amount: options.amount }),
      },
      (error: unknown, result: autocannon.Result) => {
        if (error !== null && error !== undefined) {
          reject(error instanceof Error ? error : new Error(String(error)));
          return;
        }
        const seconds = (result.finish.getTime() - result.start.getTime()) / 1000;
        const ms = (value: number) => Math.round(value / 10) / 100;
        resolve({
          seconds,
          requests: ok + Object.values(unexpected).reduce((sum, count) => sum + count, 0),
          ok,
          unexpected,
          errors: result.errors,
          timeouts: result.timeouts,
          rps: seconds > 0 ? ok / seconds : 0,
          latency: {
            p50: ms(histogram.percentile(50)),
            p90: ms(histogram.percentile(90)),
            p99: ms(histogram.percentile(99)),
            max: ms(histogram.max),
            mean: Number.isFinite(histogram.mean) ? ms(histogram.mean) : 0,
          },
        });
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      histogram.record(Math.max(1, Math.round(responseTime * 1000)));
      if (statusCode === options.expectedStatus) ok += 1;
      else unexpected[statusCode] = (unexpected[statusCode] ?? 0) + 1;
    });
    started.instance = instance;
  });
  return { stop: () => started.instance?.stop(), done };
}
