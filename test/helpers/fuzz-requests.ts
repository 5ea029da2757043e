import fc from 'fast-check';
import { anyText, bodyArb, channelPaths, type Parts, ref } from './fuzz-bodies.js';

/**
 * Requests for the HTTP fuzzing: random methods, paths (the real routes and made-up ones),
 * queries and headers (tokens valid, garbage or absent, any content type), with the bodies of
 * fuzz-bodies.
 */

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

export const requestArb = fc.record({
  route: pathArb,
  query: queryArb,
  token: tokenHeaderArb,
  authorization: authorizationArb,
  contentType: contentTypeArb,
  extraHeaders: extraHeadersArb,
  body: bodyArb,
});

export type FuzzRequest = typeof requestArb extends fc.Arbitrary<infer R> ? R : never;

/** The server-to-server routes with a valid admin key, so that their bodies reach the database. */
export const serverRequestArb: fc.Arbitrary<FuzzRequest> = fc.record({
  route: routeArb(routes.filter(([, path]) => path.startsWith('/v1/push') || path.startsWith('/v1/admin'))),
  query: queryArb,
  token: fc.constant(null),
  authorization: ref('api_key').map((value): Parts => ['Bearer ', value]),
  contentType: fc.constant<string | null | 'auto'>('auto'),
  extraHeaders: fc.constant({}),
  body: bodyArb,
});
