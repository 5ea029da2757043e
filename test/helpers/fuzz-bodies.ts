import fc from 'fast-check';

/**
 * Bodies for the HTTP fuzzing: structured JSON aimed at the real fields, any JSON, any text,
 * any bytes, and the placeholders that stand for the live values of each run.
 */

// Symbolic values: the arbitraries are built before any user exists, so a live token, the
// password, a real seq… are placeholders that each run fills in.

export type RefName =
  | 'token'
  | 'reflash_key'
  | 'username'
  | 'password'
  | 'user_id'
  | 'seq'
  | 'api_key'
  | 'notification';

export class Ref {
  constructor(readonly name: RefName) {}
}

export type Parts = Array<string | Ref>;

export const ref = (name: RefName) => fc.constant(new Ref(name));

/** The two collections under which a user registers push tokens. */
export const channelPaths = ['/v1/api/user/token', '/v1/api/user/message/token'];

/** Any UTF-16 code unit, lone surrogates included. */
const anyCodeUnit = fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code));
export const anyText = (maxLength: number) =>
  fc.oneof(
    fc.string({ maxLength }),
    fc.string({ unit: 'binary', maxLength }),
    fc.string({ unit: 'grapheme', maxLength }),
    fc.string({ unit: anyCodeUnit, maxLength }),
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

export type FuzzBody =
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

export const bodyArb: fc.Arbitrary<FuzzBody> = fc.oneof(
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

/** The live values that stand in for the placeholders of a body. */
export type BodyValues = ReadonlyMap<RefName, string | number>;

/** What `body` sends on `route`, its placeholders replaced by `values`. */
export function payloadOf(
  body: FuzzBody,
  values: BodyValues,
  route: { method: string; path: string },
): { payload?: string | Buffer } {
  const replacer = (_key: string, value: unknown) => (value instanceof Ref ? values.get(value.name) : value);
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
