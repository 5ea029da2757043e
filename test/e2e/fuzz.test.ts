import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LoginProviderFakes, startLoginProviderFakes } from '../fakes/login-providers.js';
import { createTestApp, type TestApp, testDialects, uniqueUsername } from '../helpers/app.js';
import { ManualClock } from '../helpers/clock.js';
import { assertErrorResponse } from '../helpers/error-contract.js';

/**
 * Property-based fuzzing of the whole HTTP surface: random methods, paths (the real routes
 * and made-up ones), headers (tokens valid, garbage or absent, any content type) and bodies
 * (structured JSON aimed at the real fields, any JSON, any text, any bytes). The login providers
 * are configured against local fakes, so third-party bodies reach verification. Whatever comes in,
 * the answer is below 500 and every error is a catalogue `{message, code}`.
 *
 * Reproducible: FUZZ_SEED and FUZZ_RUNS override the fixed defaults; a failure prints the
 * seed and the shrunk request.
 */

function integerFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value)) throw new Error(`${name} must be an integer, got ${raw}`);
  return value;
}

const seed = integerFromEnv('FUZZ_SEED', 20261130);
const numRuns = integerFromEnv('FUZZ_RUNS', 300);
/** FUZZ_STATS=1 prints how often each route/status/code came up, to check what the runs reach. */
const printStats = process.env.FUZZ_STATS === '1';

// ---------------------------------------------------------------------------------------------
// Symbolic values: the arbitraries are built before any user exists, so a live token, the
// password, a real seq… are placeholders that each run fills in.

type RefName =
  | 'token'
  | 'reflash_key'
  | 'username'
  | 'password'
  | 'user_id'
  | 'seq'
  | 'api_key'
  | 'notification';

class Ref {
  constructor(readonly name: RefName) {}
}

type Parts = Array<string | Ref>;

interface Identity {
  username: string;
  password: string;
  token: string;
  reflash_key: string;
  user_id: number;
}

const ref = (name: RefName) => fc.constant(new Ref(name));

// ---------------------------------------------------------------------------------------------
// Arbitraries

const channelPaths = ['/v1/api/user/token', '/v1/api/user/message/token'];
const loginProviders = ['weixin', 'facebook', 'apple', 'google'];
const routes: Array<[string, string]> = [
  ['POST', '/v1/api/user'],
  ['POST', '/v1/api/user/login'],
  ['POST', '/v1/api/user/reflash'],
  ['POST', '/v1/api/user/refresh'],
  ['POST', '/v1/api/user/logout'],
  ['GET', '/v1/api/user'],
  ['PUT', '/v1/api/user/password'],
  ['DELETE', '/v1/api/user'],
  ...channelPaths.flatMap(
    (path): Array<[string, string]> => [
      ['POST', path],
      ['GET', path],
      ['PUT', `${path}/:seq`],
      ['DELETE', `${path}/:seq`],
      ['DELETE', path],
    ],
  ),
  ...loginProviders.flatMap(
    (provider): Array<[string, string]> => [
      ['POST', `/v1/api/user/${provider}/app/login`],
      ['POST', `/v1/api/user/bind/${provider}`],
    ],
  ),
  ['DELETE', '/v1/api/user/bind/:provider'],
  ['GET', '/v1/api/user/identities'],
  ['GET', '/healthz'],
  ['GET', '/readyz'],
  ['GET', '/openapi.json'],
  ['GET', '/docs'],
  ['GET', '/docs/json'],
  ['GET', '/docs/static/index.html'],
  // Server-to-server routes (API keys); fuzzed without a valid key.
  ['POST', '/v1/push'],
  ['GET', '/v1/push/:id'],
  ['POST', '/v1/push/:id/cancel'],
  ['GET', '/v1/admin/apps'],
  ['PUT', '/v1/admin/apps/:bundleid'],
  ['GET', '/v1/admin/apps/:bundleid'],
  ['DELETE', '/v1/admin/apps/:bundleid'],
  ['GET', '/v1/admin/apps/:bundleid/inbox'],
  ['GET', '/v1/admin/keys'],
  ['POST', '/v1/admin/keys'],
  ['DELETE', '/v1/admin/keys/:id'],
];

const methods = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'TRACE', 'SEARCH', 'PROPFIND'];

/** Any UTF-16 code unit, lone surrogates included. */
const anyCodeUnit = fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code));
const anyText = (maxLength: number) =>
  fc.oneof(
    fc.string({ maxLength }),
    fc.string({ unit: 'binary', maxLength }),
    fc.string({ unit: 'grapheme', maxLength }),
    fc.string({ unit: anyCodeUnit, maxLength }),
  );

/** Percent-encodes every byte but the unreserved ones (lone surrogates become U+FFFD first). */
const percentEncode = (text: string) =>
  Array.from(Buffer.from(text, 'utf8'), (byte) =>
    /[A-Za-z0-9\-._~]/.test(String.fromCharCode(byte))
      ? String.fromCharCode(byte)
      : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`,
  ).join('');

/** What an HTTP header value can hold: tab, visible ASCII, space and obs-text (Latin-1). */
const headerText = fc.string({
  unit: fc
    .oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0x80, max: 0xff }), fc.constant(0x09))
    .map((code) => String.fromCharCode(code)),
  maxLength: 120,
});
const headerName = fc.string({
  unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-_'),
  minLength: 1,
  maxLength: 24,
});

const seqSegment: fc.Arbitrary<Parts> = fc.oneof(
  { weight: 4, arbitrary: ref('seq').map((value) => [value]) },
  // A real notification id, so that /v1/push/:id reaches its query and body checks.
  { weight: 1, arbitrary: ref('notification').map((value) => [value]) },
  { weight: 2, arbitrary: fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }).map((n) => [String(n)]) },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom(
        '0',
        '-1',
        '1.5',
        '1e309',
        'NaN',
        'Infinity',
        '0x1f',
        '+1',
        '',
        '%00',
        '%ZZ',
        '%',
        '..',
        '1%2F2',
      )
      .map((value) => [value]),
  },
  { weight: 2, arbitrary: anyText(30).map((value) => [percentEncode(value)]) },
);

const randomSegment = fc.oneof(
  fc.webSegment(),
  fc.constantFrom(
    'v1',
    'api',
    'user',
    'token',
    'message',
    'login',
    'logout',
    'docs',
    'static',
    '..',
    '.',
    '',
  ),
  fc.constantFrom('%00', '%ZZ', '%', '%2e%2e', '%2F', '%C0%AF', '%E0%A4%A'),
  anyText(20).map((value) => percentEncode(value)),
);

/** One of `list`'s routes (its method, now and then another), parameters filled in. */
const routeArb = (list: Array<[string, string]>): fc.Arbitrary<{ method: string; path: Parts }> =>
  fc
    .tuple(
      fc.constantFrom(...list),
      fc.oneof(
        { weight: 4, arbitrary: fc.constant(null) },
        { weight: 1, arbitrary: fc.constantFrom(...methods) },
      ),
      seqSegment,
    )
    .map(([[method, template], otherMethod, param]) => {
      // Route parameters (`:seq`, `:id`, `:bundleid`) all take the generated segment.
      const [head = '', ...rest] = template.split(/:[a-z]+/);
      return { method: otherMethod ?? method, path: [head, ...rest.flatMap((tail) => [...param, tail])] };
    });

const pathArb: fc.Arbitrary<{ method: string; path: Parts }> = fc.oneof(
  { weight: 6, arbitrary: routeArb(routes) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.constantFrom(...methods),
        fc.constantFrom(...routes),
        fc.constantFrom('/', '//', '/x', '/..', '/%2e%2e', '%2F', '/1/2', '/ '),
      )
      .map(([method, [, template], suffix]) => ({
        method,
        path: [template.replace(/:[a-z]+/g, '1') + suffix],
      })),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom(...methods), fc.array(randomSegment, { maxLength: 6 }))
      .map(([method, segments]) => ({ method, path: [`/${segments.join('/')}`] })),
  },
);

const queryArb = fc.oneof(
  { weight: 6, arbitrary: fc.constant('') },
  { weight: 2, arbitrary: fc.webQueryParameters().map((query) => `?${query}`) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '?__proto__[admin]=1',
      '?constructor[prototype][admin]=1',
      '?token=garbage',
      '?a=%ZZ',
      '?after=%00',
      '?after=%00&limit=1',
      `?${'a'.repeat(4000)}`,
    ),
  },
);

const knownFields = [
  'username',
  'password',
  'email',
  'phone',
  'reflash_key',
  'token',
  'old_password',
  'new_password',
  'push_token',
  'language',
  'id',
  'dev',
  'bundleid',
  'os',
  'os_token',
  'push_platform',
  'phone_model',
  'code',
  'access_token',
  'openid',
  'identity_token',
  'authorization_code',
  'nonce',
  'full_name',
  'id_token',
];

const plausibleString = fc.constantFrom(
  'en',
  'zh_CN',
  'zh-Hant-TW',
  'a'.repeat(64),
  'iOS',
  'Android',
  'HUAWEI',
  'FCM',
  'com.example.app',
  'correct horse battery',
  'someone@example.com',
  '+15551234567',
  'fuzz_user_1',
  "' OR 1=1 --",
  "'; DROP TABLE users; --",
  '\u0000',
  '\ud800',
  '',
);

/** Short strings dense in the characters that break things: controls, surrogates, quotes, bidi. */
const nastyText = fc.string({
  unit: fc.constantFrom(
    ...['\u0000', '\u0001', '\n', '\r', '\t', '\u001b', '\u007f', '\u0085', '\u2028', '\ufeff', '\ufffd'],
    ...['\ud800', '\udfff', '\u200f', '\u202e', '\u0301', '😀', 'ａ', "'", '"', '\\', '%', ';', '-', ' '],
    ...['a', 'Z', '0', '9', '@', '.', '_', '+'],
  ),
  maxLength: 40,
});

const fieldValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: nastyText },
  {
    weight: 3,
    arbitrary: fc
      .constantFrom<RefName>('token', 'reflash_key', 'username', 'password', 'user_id')
      .map((name) => new Ref(name)),
  },
  { weight: 4, arbitrary: plausibleString },
  { weight: 3, arbitrary: anyText(300) },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.constantFrom(true, false, null, 0, 1, -1, 2 ** 53, 1e20) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);

const fieldsObject = fc.dictionary(
  fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...knownFields) }, { weight: 1, arbitrary: anyText(12) }),
  fieldValue,
  { maxKeys: 8 },
);

const printableAscii = fc.string({
  unit: fc.integer({ min: 0x21, max: 0x7e }).map((code) => String.fromCharCode(code)),
  minLength: 1,
  maxLength: 80,
});

/** Values a real client would send; route templates are made of them. */
const plausibleArb = fc.record({
  username: fc.stringMatching(/^[A-Za-z0-9_.-]{6,32}$/),
  email: fc.emailAddress(),
  phone: fc.stringMatching(/^\+?[0-9]{5,19}$/),
  new_password: fc.string({ unit: 'grapheme', minLength: 8, maxLength: 40 }),
  push_token: printableAscii,
  language: fc.constantFrom('en', 'zh-CN', 'zh_Hant_TW', 'pt-BR', 'de', 'sr-Latn-RS'),
  os: fc.constantFrom('iOS', 'ios', 'Android', 'Huawei', 'HarmonyOS', ''),
  push_platform: fc.constantFrom(
    'HUAWEI',
    'HONOR',
    'XIAOMI',
    'OPPO',
    'VIVO',
    'MEIZU',
    'FCM',
    'hms',
    'mipush',
    'GCM',
    'APNS',
    '',
  ),
  os_token: fc.option(printableAscii, { nil: null }),
  phone_model: fc.string({ unit: 'grapheme', maxLength: 40 }),
  dev: fc.constantFrom(0, 1),
  channel: fc.constantFrom('ring', 'message'),
  /** Free text of the server-to-server bodies: names, titles, keys. */
  text: fc.oneof(plausibleString, nastyText),
  users: fc.array(
    fc.constantFrom<unknown>(new Ref('user_id'), 1, 1e20, 2 ** 63, -(2 ** 63) - 4096, 2 ** 53, 0),
    { minLength: 1, maxLength: 3 },
  ),
  bundleid: fc.constantFrom(null, 'com.example.app', 'com.example.bellhop'),
  id: fc.constantFrom<unknown>(new Ref('user_id'), 0),
  jwt: fc.oneof(
    fc.constantFrom('a.b.c', 'eyJhbGciOiJub25lIiwia2lkIjoieCJ9.e30.', 'eyJhbGciOiJSUzI1NiJ9.e30.c2ln'),
    fc.tuple(printableAscii, printableAscii, printableAscii).map((parts) => parts.join('.')),
  ),
});

type Plausible = typeof plausibleArb extends fc.Arbitrary<infer P> ? P : never;

/** The body the route expects, made of plausible values; undefined for a made-up route. */
function templateFor(method: string, path: string, p: Plausible): Record<string, unknown> | undefined {
  const username = new Ref('username');
  const password = new Ref('password');
  const route = `${method.toUpperCase()} ${path.replace(/\/[^/]*$/, (last) => (/^\/\d+$/.test(last) ? '/:seq' : last))}`;
  const registration = {
    push_token: p.push_token,
    language: p.language,
    os: p.os,
    push_platform: p.push_platform,
    os_token: p.os_token,
    phone_model: p.phone_model,
    dev: p.dev,
    bundleid: p.bundleid,
    id: p.id,
  };
  const push = {
    channel: p.channel,
    users: p.users,
    title: p.text,
    bundleid: p.bundleid ?? undefined,
    collapse_id: p.text,
    idempotency_key: p.text,
    data: { [p.text]: p.text },
  };
  if (method.toUpperCase() === 'PUT' && path.startsWith('/v1/admin/apps/'))
    return { name: p.text, mode: 'inbox', default_language: p.language };
  const templates: Record<string, Record<string, unknown>> = {
    'POST /v1/push': push,
    'POST /v1/admin/keys': { name: p.text, scopes: ['send'] },
    'POST /v1/api/user': { username: p.username, password: p.new_password, email: p.email, phone: p.phone },
    'POST /v1/api/user/login': { username, password },
    'POST /v1/api/user/reflash': { reflash_key: new Ref('reflash_key') },
    'POST /v1/api/user/refresh': { reflash_key: new Ref('reflash_key') },
    'POST /v1/api/user/logout': { username, token: new Ref('token') },
    'PUT /v1/api/user/password': { old_password: password, new_password: p.new_password },
    'DELETE /v1/api/user': { password },
    'POST /v1/api/user/weixin/app/login': { code: p.push_token },
    'POST /v1/api/user/bind/weixin': { access_token: p.push_token, openid: p.push_token },
    'POST /v1/api/user/facebook/app/login': { access_token: p.push_token },
    'POST /v1/api/user/bind/facebook': { access_token: p.push_token },
    'POST /v1/api/user/apple/app/login': {
      identity_token: p.jwt,
      authorization_code: p.push_token,
      nonce: p.push_token,
      full_name: p.phone_model,
    },
    'POST /v1/api/user/bind/apple': { identity_token: p.jwt },
    'POST /v1/api/user/google/app/login': { id_token: p.jwt },
    'POST /v1/api/user/bind/google': { id_token: p.jwt },
    ...Object.fromEntries(
      channelPaths.flatMap((channel) => [
        [`POST ${channel}`, registration],
        [`PUT ${channel}/:seq`, { push_token: p.push_token, language: p.language }],
      ]),
    ),
  };
  return templates[route];
}

type FuzzBody =
  | { kind: 'none' }
  | {
      kind: 'template';
      plausible: Plausible;
      /** [which of the template's fields, new value]; the index wraps around. */
      overrides: Array<[number, unknown]>;
      extra: Record<string, unknown>;
      drop: number | null;
    }
  | { kind: 'fields'; value: Record<string, unknown>; poison: '__proto__' | 'constructor' | null }
  | { kind: 'json'; value: unknown }
  | { kind: 'truncated'; value: Record<string, unknown>; keep: number }
  | { kind: 'text'; text: string }
  | { kind: 'bytes'; bytes: Uint8Array };

const bodyArb: fc.Arbitrary<FuzzBody> = fc.oneof(
  { weight: 2, arbitrary: fc.constant({ kind: 'none' as const }) },
  {
    weight: 10,
    arbitrary: fc
      .record({
        plausible: plausibleArb,
        overrides: fc.array(fc.tuple(fc.nat(), fieldValue), { maxLength: 2 }),
        extra: fc.dictionary(fc.constantFrom(...knownFields), fieldValue, { maxKeys: 1 }),
        drop: fc.oneof({ weight: 5, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.nat() }),
      })
      .map((template) => ({ kind: 'template' as const, ...template })),
  },
  {
    weight: 3,
    arbitrary: fc
      .record({
        value: fieldsObject,
        poison: fc.oneof(
          { weight: 8, arbitrary: fc.constant(null) },
          { weight: 1, arbitrary: fc.constantFrom('__proto__' as const, 'constructor' as const) },
        ),
      })
      .map(({ value, poison }) => ({ kind: 'fields' as const, value, poison })),
  },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((value) => ({ kind: 'json' as const, value })) },
  {
    weight: 1,
    arbitrary: fc
      .record({ value: fieldsObject, keep: fc.nat() })
      .map(({ value, keep }) => ({ kind: 'truncated' as const, value, keep })),
  },
  { weight: 1, arbitrary: anyText(400).map((text) => ({ kind: 'text' as const, text })) },
  {
    weight: 1,
    arbitrary: fc.uint8Array({ maxLength: 400 }).map((bytes) => ({ kind: 'bytes' as const, bytes })),
  },
);

const contentTypeArb: fc.Arbitrary<string | null | 'auto'> = fc.oneof(
  { weight: 12, arbitrary: fc.constant('auto' as const) },
  { weight: 1, arbitrary: fc.constant(null) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'application/json',
      'application/json; charset=utf-8',
      'APPLICATION/JSON',
      'application/json; charset=latin1',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=xyz',
      'application/xml',
      'application/vnd.api+json',
      'application/octet-stream',
      '*/*',
      '',
      'json;;;',
    ),
  },
  { weight: 1, arbitrary: headerText },
);

const tokenHeaderArb: fc.Arbitrary<Parts | null> = fc.oneof(
  { weight: 4, arbitrary: ref('token').map((value) => [value]) },
  { weight: 3, arbitrary: fc.constant(null) },
  { weight: 2, arbitrary: headerText.map((value) => [value]) },
  { weight: 1, arbitrary: ref('reflash_key').map((value) => [value]) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('', ' ', 'null', 'undefined', "' OR 1=1 --").map((value) => [value]),
  },
);

const authorizationArb: fc.Arbitrary<Parts | null> = fc.oneof(
  { weight: 6, arbitrary: fc.constant(null) },
  // An admin API key: the server-to-server routes' bodies reach the database.
  { weight: 3, arbitrary: ref('api_key').map((value) => ['Bearer ', value]) },
  { weight: 2, arbitrary: ref('token').map((value) => ['Bearer ', value]) },
  { weight: 1, arbitrary: headerText.map((value) => [`Bearer ${value}`]) },
  { weight: 1, arbitrary: headerText.map((value) => [value]) },
);

const reserved = new Set(['content-length', 'transfer-encoding', 'content-type', 'token', 'authorization']);
const extraHeadersArb = fc.dictionary(
  headerName.filter((name) => !reserved.has(name)),
  headerText,
  { maxKeys: 4 },
);

const requestArb = fc.record({
  route: pathArb,
  query: queryArb,
  token: tokenHeaderArb,
  authorization: authorizationArb,
  contentType: contentTypeArb,
  extraHeaders: extraHeadersArb,
  body: bodyArb,
});

type FuzzRequest = typeof requestArb extends fc.Arbitrary<infer R> ? R : never;

/** The server-to-server routes with a valid admin key, so that their bodies reach the database. */
const serverRequestArb: fc.Arbitrary<FuzzRequest> = fc.record({
  route: routeArb(routes.filter(([, path]) => path.startsWith('/v1/push') || path.startsWith('/v1/admin'))),
  query: queryArb,
  token: fc.constant(null),
  authorization: ref('api_key').map((value): Parts => ['Bearer ', value]),
  contentType: fc.constant<string | null | 'auto'>('auto'),
  extraHeaders: fc.constant({}),
  body: bodyArb,
});

// ---------------------------------------------------------------------------------------------

describe.each(testDialects())('fuzzing every route on %s', (dialect) => {
  let t: TestApp;
  let identity: Identity;
  let fakes: LoginProviderFakes;
  let apiKey: string;
  let notification: string;
  const stats = new Map<string, number>();

  async function register(): Promise<Identity> {
    const username = uniqueUsername('fuzz');
    const password = 'correct horse battery';
    const response = await t.app.inject({
      method: 'POST',
      url: '/v1/api/user',
      payload: { username, password },
    });
    expect(response.statusCode).toBe(201);
    const body = response.json() as { id: number; token: string; reflash_key: string };
    for (const path of channelPaths) {
      const add = await t.app.inject({
        method: 'POST',
        url: path,
        headers: { token: body.token },
        payload: { push_token: `fuzz-${body.id}-${path.length}`, language: 'en' },
      });
      expect(add.statusCode).toBe(201);
    }
    return { username, password, token: body.token, reflash_key: body.reflash_key, user_id: body.id };
  }

  /** A live session for the next run: the last one, a new login, or a new user. */
  async function liveIdentity(): Promise<Identity> {
    const probe = await t.app.inject({
      method: 'GET',
      url: '/v1/api/user',
      headers: { token: identity.token },
    });
    if (probe.statusCode === 200) return identity;
    const login = await t.app.inject({
      method: 'POST',
      url: '/v1/api/user/login',
      payload: { username: identity.username, password: identity.password },
    });
    if (login.statusCode === 201) {
      const body = login.json() as { token: string; reflash_key: string };
      identity = { ...identity, token: body.token, reflash_key: body.reflash_key };
    } else {
      identity = await register();
    }
    return identity;
  }

  async function lookup(name: RefName, who: Identity): Promise<string | number> {
    if (name === 'api_key') return apiKey;
    if (name === 'notification') return notification;
    if (name !== 'seq') return who[name];
    const row = await t.database.handle.db
      .selectFrom('registrations')
      .select('seq')
      .where('user_id', '=', who.user_id)
      .orderBy('seq')
      .executeTakeFirst();
    return row?.seq ?? 1;
  }

  async function render(parts: Parts, who: Identity): Promise<string> {
    const pieces = await Promise.all(
      parts.map(async (part) => (part instanceof Ref ? String(await lookup(part.name, who)) : part)),
    );
    return pieces.join('');
  }

  async function payloadOf(
    body: FuzzBody,
    who: Identity,
    route: { method: string; path: string },
  ): Promise<{ payload?: string | Buffer }> {
    const values = new Map<RefName, string | number>();
    for (const name of ['token', 'reflash_key', 'username', 'password', 'user_id', 'api_key'] as const) {
      values.set(name, await lookup(name, who));
    }
    const replacer = (_key: string, value: unknown) =>
      value instanceof Ref ? values.get(value.name) : value;
    switch (body.kind) {
      case 'none':
        return {};
      case 'template': {
        const fields: Record<string, unknown> = {
          ...(templateFor(route.method, route.path, body.plausible) ?? body.plausible),
        };
        const names = Object.keys(fields);
        for (const [index, value] of body.overrides) fields[names[index % names.length] ?? ''] = value;
        if (body.drop !== null) delete fields[names[body.drop % names.length] ?? ''];
        return { payload: JSON.stringify({ ...body.extra, ...fields }, replacer) };
      }
      case 'fields': {
        const text = JSON.stringify(body.value, replacer);
        if (body.poison === null) return { payload: text };
        const poison = body.poison === '__proto__' ? '{"admin":true}' : '{"prototype":{"admin":true}}';
        const rest = text === '{}' ? '}' : `,${text.slice(1)}`;
        return { payload: `{"${body.poison}":${poison}${rest}` };
      }
      case 'json':
        return { payload: JSON.stringify(body.value) };
      case 'truncated': {
        const text = JSON.stringify(body.value, replacer);
        return { payload: text.slice(0, body.keep % Math.max(1, text.length)) };
      }
      case 'text':
        return { payload: body.text };
      case 'bytes':
        return { payload: Buffer.from(body.bytes) };
    }
  }

  async function send(request: FuzzRequest) {
    const who = await liveIdentity();
    const headers: Record<string, string> = { ...request.extraHeaders };
    if (request.token !== null) headers.token = await render(request.token, who);
    if (request.authorization !== null) headers.authorization = await render(request.authorization, who);
    const path = await render(request.route.path, who);
    const { payload } = await payloadOf(request.body, who, { method: request.route.method, path });
    const contentType =
      request.contentType === 'auto'
        ? payload === undefined
          ? null
          : 'application/json'
        : request.contentType;
    if (contentType !== null) headers['content-type'] = contentType;
    const options: InjectOptions = {
      method: request.route.method as InjectOptions['method'],
      url: path + request.query,
      headers,
      ...(payload === undefined ? {} : { payload }),
    };
    return { options, response: await t.app.inject(options) };
  }

  beforeAll(async () => {
    const clock = new ManualClock();
    fakes = await startLoginProviderFakes(() => clock.now());
    t = await createTestApp(
      dialect,
      {
        ...fakes.environment,
        RATE_LIMIT_FAILURES_PER_ACCOUNT_IP: '1000000',
        RATE_LIMIT_FAILURES_PER_ACCOUNT: '1000000',
      },
      { clock },
    );
    identity = await register();
    apiKey = (await t.services.apiKeys.create('fuzz', ['admin'])).key;
    const sent = await t.app.inject({
      method: 'POST',
      url: '/v1/push',
      headers: { authorization: `Bearer ${apiKey}` },
      payload: { channel: 'message', users: [identity.user_id], title: 'fuzz' },
    });
    expect(sent.statusCode).toBe(202);
    notification = (sent.json() as { id: string }).id;
  });
  afterAll(async () => {
    await t.close();
    await fakes.close();
  });

  /** Sends each request; fails on a 5xx, an error outside the catalogue or a polluted prototype. */
  const answersWell = (arbitrary: fc.Arbitrary<FuzzRequest>) =>
    fc.asyncProperty(arbitrary, async (request) => {
      const { options, response } = await send(request);
      if (printStats) {
        const route =
          response.statusCode === 404 ? 'unmatched' : `${options.method} ${request.route.path[0]}`;
        const code = /"code":"([A-Z_]+)"/.exec(response.body)?.[1] ?? '';
        const key = `${route} ${response.statusCode} ${code}`;
        stats.set(key, (stats.get(key) ?? 0) + 1);
      }
      const context = `${options.method} ${options.url} → ${response.statusCode} ${response.body.slice(0, 200)}`;
      if (response.statusCode >= 500) throw new Error(`server error: ${context}`);
      if (response.statusCode >= 400 && options.method !== 'HEAD') {
        try {
          assertErrorResponse(response);
        } catch (error) {
          throw new Error(`${(error as Error).message}\n  request: ${context}`);
        }
      }
      if (Object.keys(Object.prototype).length > 0 || ({} as Record<string, unknown>).admin !== undefined) {
        throw new Error(`Object.prototype polluted by ${context}`);
      }
    });

  it(
    `answers ${numRuns} random requests below 500 with catalogue errors (seed ${seed})`,
    async () => {
      await fc.assert(answersWell(requestArb), { seed, numRuns });
      if (printStats) {
        const lines = [...stats]
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([key, n]) => `${String(n).padStart(6)} ${key}`);
        process.stdout.write(`\nfuzz outcomes on ${dialect}:\n${lines.join('\n')}\n`);
      }
    },
    Math.max(60_000, numRuns * 400),
  );

  const serverRuns = Math.ceil(numRuns / 2);
  it(
    `answers ${serverRuns} random server-to-server requests with a valid key below 500 (seed ${seed})`,
    async () => {
      await fc.assert(answersWell(serverRequestArb), { seed, numRuns: serverRuns });
    },
    Math.max(60_000, serverRuns * 400),
  );

  it('still serves a valid session after the fuzzing', async () => {
    const who = await liveIdentity();
    const response = await t.app.inject({
      method: 'GET',
      url: '/v1/api/user',
      headers: { token: who.token },
    });
    expect(response.statusCode).toBe(200);
    const ready = await t.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
  });
});
