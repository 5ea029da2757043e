import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../src/errors.js';
import {
  createTestApp,
  type LoginBody,
  registerUser,
  type TestApp,
  testDialects,
  uniqueUsername,
} from '../helpers/app.js';
import { snapshotTables, type TablesSnapshot } from '../helpers/db-snapshot.js';
import { assertErrorResponse, type ExpectedError, expectedError } from '../helpers/error-contract.js';

/**
 * Every route against missing, empty, mistyped, oversized, mis-encoded and hostile input:
 * each request gets exactly the contract's status, code and wording, and leaves every table
 * exactly as it was. The cases are generated from small per-route tables.
 */

const missing = (field: string) => expectedError('FIELD_MISSING', field);
const length = (field: string) => expectedError('FIELD_LENGTH', field);
const format = (field: string) => expectedError('FIELD_FORMAT', field);
const invalid = (field: string) => expectedError('FIELD_INVALID', field);
const plain = (code: ErrorCode) => expectedError(code);
const malformed = plain('MALFORMED_BODY');
const tooLarge = plain('BODY_TOO_LARGE');
const mediaType = plain('UNSUPPORTED_MEDIA_TYPE');
const noToken = plain('NO_TOKEN');
const invalidToken = plain('INVALID_TOKEN');
const notFound = plain('NOT_FOUND');

interface User extends LoginBody {
  username: string;
  password: string;
}

/** What the cases refer to; built per dialect before they run. */
interface World {
  owner: User & { email: string; phone: string };
  other: User;
  /** A token whose session has been logged out. */
  endedToken: string;
  seqs: { ring: number; message: number; otherRing: number; otherMessage: number };
}

type Dyn<T> = T | ((world: World) => T);
const resolve = <T>(value: Dyn<T>, world: World): T =>
  typeof value === 'function' ? (value as (world: World) => T)(world) : value;

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

interface Case {
  name: string;
  method: Method;
  url: Dyn<string>;
  headers: Dyn<Record<string, string>>;
  body?: Dyn<string | Buffer>;
  /** Sent as is; `null` sends no content-type at all. Default: application/json with a body. */
  contentType?: string | null;
  expected: ExpectedError | { status: number };
}

const ownerToken = (world: World) => ({ token: world.owner.token });
const noHeaders = () => ({});

// ---------------------------------------------------------------------------------------------
// Values

/** Code points, as JSON Schema's minLength/maxLength count them. */
const codePoints = (text: string) => Array.from(text).length;

/** Pads `text` with `x` up to `min` code points; values longer than `max` are left out. */
function sized(values: Array<[string, string]>, min: number, max: number): Array<[string, string]> {
  return values
    .map(([label, text]): [string, string] => [label, text + 'x'.repeat(Math.max(0, min - codePoints(text)))])
    .filter(([, text]) => codePoints(text) <= max);
}

/** Text that a strict ASCII pattern (user names, push tokens, language tags, …) rejects. */
const notPlainAscii: Array<[string, string]> = [
  ['a space', 'has space'],
  ['NUL', 'nul\u0000'],
  ['a newline', 'line\nbreak'],
  ['a tab', 'tab\there'],
  ['DEL', 'del\u007f'],
  ['an escape sequence', 'esc\u001b[0m'],
  ['emoji', '😀😀😀😀😀😀'],
  ['a lone high surrogate', '\ud800abc'],
  ['a lone low surrogate', 'abc\udfff'],
  ['an RTL mark', '\u200fabc'],
  ['an RTL override', 'abc\u202edef'],
  ['a combining accent', 'e\u0301te'],
  ['a long grapheme cluster', `a${'\u0301'.repeat(24)}`],
  ['fullwidth letters', 'ａｂｃｄｅｆ'],
  ['SQL (OR 1=1)', "' OR 1=1 --"],
  ['SQL (DROP TABLE)', "'; DROP TABLE users; --"],
];
const withoutSpaceCase = notPlainAscii.filter(([label]) => label !== 'a space');

const controlAndSurrogates: Array<[string, string]> = [
  ['NUL', 'model\u0000'],
  ['a newline', 'model\nx'],
  ['a tab', 'model\tx'],
  ['DEL', 'model\u007f'],
  ['an escape sequence', '\u001b[31mred'],
  ['a lone high surrogate', 'model\ud800'],
  ['a lone low surrogate', '\udc00model'],
];

const badEmails: Array<[string, string]> = [
  ['no @', 'plainaddress'],
  ['no domain dot', 'someone@localhost'],
  ['two @', 'a@@example.com'],
  ['a space', 'some one@example.com'],
  ['NUL', 'some\u0000one@example.com'],
  ['a newline', 'someone@example.com\nBcc: x@y.zz'],
  ['DEL', 'some\u007fone@example.com'],
  ['a lone surrogate', '\ud800@example.com'],
  ['SQL', "x' OR 1=1 --@example.com"],
];

const loneSurrogatePasswords: Array<[string, string]> = [
  ['lone surrogates', '\ud800'.repeat(8)],
  ['a lone low surrogate', 'password\udfff'],
];

// ---------------------------------------------------------------------------------------------
// Route tables

interface Field {
  name: string;
  type: 'string' | 'integer';
  required?: boolean;
  /** `null` is a valid value. */
  nullable?: boolean;
  /** What `""` gives; absent when `""` is valid. */
  empty?: ExpectedError;
  tooLong?: string[];
  /** Values under the minimum length. */
  tooShort?: string[];
  /** Values that fail the field's pattern or bounds: `<field> error`. */
  invalid?: Array<[string, unknown]>;
}

interface BodyRoute {
  method: Method;
  url: Dyn<string>;
  label: string;
  headers: Dyn<Record<string, string>>;
  /** A body that passes validation; each field case spoils one field of it. */
  valid: (world: World) => Record<string, unknown>;
  fields: Field[];
  /** `null` (and so an empty body) is a valid body: logout. */
  nullable?: boolean;
  /** The route has no body schema: any JSON is ignored. */
  schemaless?: boolean;
}

const longPushToken = 'a'.repeat(513);
const registrationFields = (update: boolean): Field[] => [
  {
    name: 'push_token',
    type: 'string',
    required: !update,
    empty: length('push_token'),
    tooLong: [longPushToken],
    invalid: sized(notPlainAscii, 1, 512),
  },
  {
    name: 'language',
    type: 'string',
    required: !update,
    empty: length('language'),
    tooLong: [`en${'-abcdefgh'.repeat(4)}`],
    invalid: [
      ...sized(notPlainAscii, 2, 35),
      ['digits first', '12-ab'],
      ['Cyrillic', 'ру-RU'],
      ['a trailing dash', 'en-'],
      ['a subtag over 8 characters', 'en-abcdefghi'],
    ],
  },
  ...(update
    ? []
    : ([
        { name: 'id', type: 'integer', invalid: [['negative', -1]] },
        {
          name: 'dev',
          type: 'integer',
          invalid: [
            ['2', 2],
            ['negative', -1],
          ],
        },
        {
          name: 'bundleid',
          type: 'string',
          nullable: true,
          tooLong: ['a'.repeat(156)],
          invalid: [...sized(notPlainAscii, 0, 155), ['a leading dot', '.com.example']],
        },
        {
          name: 'os',
          type: 'string',
          nullable: true,
          tooLong: ['a'.repeat(33)],
          invalid: sized(withoutSpaceCase, 0, 32),
        },
        {
          name: 'os_token',
          type: 'string',
          nullable: true,
          tooLong: ['a'.repeat(513)],
          invalid: sized(notPlainAscii, 0, 512),
        },
        {
          name: 'push_platform',
          type: 'string',
          nullable: true,
          tooLong: ['A'.repeat(33)],
          invalid: sized(withoutSpaceCase, 0, 32),
        },
        {
          name: 'phone_model',
          type: 'string',
          nullable: true,
          tooLong: ['x'.repeat(129), `e${'\u0301'.repeat(200)}`],
          invalid: controlAndSurrogates,
        },
      ] satisfies Field[])),
];

const channels = [
  { name: 'ring', path: '/v1/api/user/token', seq: (w: World) => w.seqs.ring },
  { name: 'message', path: '/v1/api/user/message/token', seq: (w: World) => w.seqs.message },
] as const;

const passwordField = (name: string): Field => ({
  name,
  type: 'string',
  required: true,
  empty: length(name),
  tooLong: ['p'.repeat(129)],
});

/** A token, code or id field of a third-party login: printable ASCII without spaces. */
const opaqueField = (name: string, max: number, required = false): Field => ({
  name,
  type: 'string',
  required,
  empty: length(name),
  tooLong: ['t'.repeat(max + 1)],
  invalid: sized(notPlainAscii, 1, max),
});

const thirdParty: Array<{ provider: string; valid: () => Record<string, unknown>; fields: Field[] }> = [
  {
    provider: 'weixin',
    valid: () => ({ code: '081abcDEF', access_token: 'wx-token', openid: 'oABC123' }),
    fields: [
      opaqueField('code', 512),
      opaqueField('access_token', 512),
      opaqueField('openid', 128),
      { name: 'apikey', type: 'string', tooLong: ['k'.repeat(65)] },
    ],
  },
  {
    provider: 'facebook',
    valid: () => ({ access_token: 'EAABtoken' }),
    fields: [opaqueField('access_token', 4096, true)],
  },
  {
    provider: 'apple',
    valid: () => ({
      identity_token: 'a.b.c',
      authorization_code: 'c.0.abc',
      nonce: 'n0nce',
      full_name: 'Ada',
    }),
    fields: [
      opaqueField('identity_token', 8192, true),
      opaqueField('authorization_code', 1024),
      opaqueField('nonce', 256),
      { name: 'full_name', type: 'string', tooLong: ['n'.repeat(129)], invalid: controlAndSurrogates },
    ],
  },
  {
    provider: 'google',
    valid: () => ({ id_token: 'a.b.c' }),
    fields: [opaqueField('id_token', 8192, true)],
  },
];

const bodyRoutes: BodyRoute[] = [
  {
    label: 'register',
    method: 'POST',
    url: '/v1/api/user',
    headers: noHeaders,
    valid: () => ({
      username: 'fresh_user',
      password: 'correct horse battery',
      email: 'fresh@example.com',
      phone: '+15550009999',
    }),
    fields: [
      {
        name: 'username',
        type: 'string',
        required: true,
        empty: length('username'),
        tooLong: ['a'.repeat(33)],
        invalid: sized(notPlainAscii, 6, 32),
      },
      {
        name: 'password',
        type: 'string',
        required: true,
        empty: length('password'),
        tooLong: ['p'.repeat(129)],
        tooShort: ['short'],
        invalid: loneSurrogatePasswords,
      },
      {
        name: 'email',
        type: 'string',
        tooLong: [`${'a'.repeat(245)}@example.com`],
        invalid: badEmails,
      },
      {
        name: 'phone',
        type: 'string',
        tooLong: ['1'.repeat(21)],
        invalid: [
          ...sized(notPlainAscii, 5, 20),
          ['fullwidth digits', '１２３４５６'],
          ['Arabic-Indic digits', '١٢٣٤٥٦'],
          ['a plus inside', '123+456'],
          ['too few digits', '1234'],
        ],
      },
    ],
  },
  {
    label: 'login',
    method: 'POST',
    url: '/v1/api/user/login',
    headers: noHeaders,
    valid: (w) => ({ username: w.owner.username, password: w.owner.password }),
    fields: [
      {
        name: 'username',
        type: 'string',
        required: true,
        empty: length('username'),
        tooLong: ['u'.repeat(255)],
        invalid: [
          ['NUL', 'a\u0000b'],
          ['a newline', 'a\nb'],
          ['DEL', 'a\u007fb'],
          ['an escape sequence', '\u001b[31m'],
        ],
      },
      { ...passwordField('password') },
    ],
  },
  ...['/v1/api/user/reflash', '/v1/api/user/refresh'].map(
    (url): BodyRoute => ({
      label: url.slice(13),
      method: 'POST',
      url,
      headers: noHeaders,
      valid: (w) => ({ reflash_key: w.owner.reflash_key }),
      fields: [
        {
          name: 'reflash_key',
          type: 'string',
          required: true,
          empty: length('reflash_key'),
          tooLong: ['k'.repeat(257)],
        },
      ],
    }),
  ),
  {
    label: 'logout',
    method: 'POST',
    url: '/v1/api/user/logout',
    headers: ownerToken,
    valid: (w) => ({ username: w.owner.username, token: w.owner.token }),
    nullable: true,
    fields: [
      { name: 'username', type: 'string', tooLong: ['u'.repeat(255)] },
      { name: 'token', type: 'string', tooLong: ['t'.repeat(257)] },
    ],
  },
  {
    label: 'change password',
    method: 'PUT',
    url: '/v1/api/user/password',
    headers: ownerToken,
    valid: (w) => ({ old_password: w.owner.password, new_password: 'another good password' }),
    fields: [
      passwordField('old_password'),
      {
        ...passwordField('new_password'),
        tooShort: ['seven c'],
        invalid: loneSurrogatePasswords,
      },
    ],
  },
  {
    label: 'delete account',
    method: 'DELETE',
    url: '/v1/api/user',
    headers: ownerToken,
    valid: (w) => ({ password: w.owner.password }),
    fields: [passwordField('password')],
  },
  ...thirdParty.flatMap(({ provider, valid, fields }): BodyRoute[] => [
    {
      label: `${provider} login`,
      method: 'POST',
      url: `/v1/api/user/${provider}/app/login`,
      headers: noHeaders,
      valid,
      fields,
    },
    {
      label: `${provider} bind`,
      method: 'POST',
      url: `/v1/api/user/bind/${provider}`,
      headers: ownerToken,
      valid,
      fields,
    },
  ]),
  ...channels.flatMap(({ name, path, seq }): BodyRoute[] => [
    {
      label: `${name}: register`,
      method: 'POST',
      url: path,
      headers: ownerToken,
      valid: () => ({ push_token: `fresh-${name}-token`, language: 'en', os: 'iOS', dev: 0 }),
      fields: registrationFields(false),
    },
    {
      label: `${name}: update`,
      method: 'PUT',
      url: (w) => `${path}/${seq(w)}`,
      headers: ownerToken,
      valid: () => ({ push_token: `changed-${name}-token`, language: 'fr' }),
      fields: registrationFields(true),
    },
    {
      label: `${name}: delete one`,
      method: 'DELETE',
      url: (w) => `${path}/${seq(w)}`,
      headers: ownerToken,
      valid: () => ({}),
      fields: [],
      schemaless: true,
    },
    {
      label: `${name}: delete all`,
      method: 'DELETE',
      url: path,
      headers: ownerToken,
      valid: () => ({}),
      fields: [],
      schemaless: true,
    },
  ]),
];

const RAW = '__raw_json_number__';
const withField = (route: BodyRoute, name: string, value: unknown) => (w: World) =>
  JSON.stringify({ ...route.valid(w), [name]: value }).replace(`"${RAW}"`, '1e309');
const withoutField = (route: BodyRoute, name: string) => (w: World) => {
  const { [name]: _dropped, ...rest } = route.valid(w);
  return JSON.stringify(rest);
};

const oneMegabyte = JSON.stringify({ padding: 'x'.repeat(1024 * 1024) });

function bodyCases(route: BodyRoute): Case[] {
  const base = { method: route.method, url: route.url, headers: route.headers };
  const cases: Case[] = [];
  const add = (name: string, rest: Omit<Case, 'name' | 'method' | 'url' | 'headers'>) =>
    cases.push({ ...base, name: `${route.label}: ${name}`, ...rest });

  for (const [label, body] of [
    ['an unterminated object', '{"a":'],
    ['single quotes', "{'a': 1}"],
    ['a trailing comma', '{"a": 1,}'],
    ['a bare word', 'undefined'],
    ['NaN', 'NaN'],
    ['two documents', '{}{}'],
    ['deep unclosed nesting', '['.repeat(20_000)],
    ['invalid UTF-8', Buffer.from([0x7b, 0xc3, 0x28, 0x7d])],
    ['a raw NUL', '\u0000'],
  ] as const) {
    add(`malformed JSON (${label})`, { body, expected: malformed });
  }
  for (const [label, contentType, body] of [
    ['text/plain', 'text/plain', undefined],
    ['text/plain; charset=utf-8', 'text/plain; charset=utf-8', undefined],
    ['a form', 'application/x-www-form-urlencoded', 'username=a&password=b'],
    [
      'multipart',
      'multipart/form-data; boundary=XyZ',
      '--XyZ\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--XyZ--',
    ],
    ['XML', 'application/xml', '<user/>'],
    ['a look-alike JSON type', 'application/jsonx', undefined],
    ['an empty content-type', '', undefined],
    ['a malformed content-type', 'json;;;', undefined],
    ['no content-type', null, undefined],
  ] as const) {
    add(`wrong content type (${label})`, {
      contentType,
      body: body ?? ((w) => JSON.stringify(route.valid(w))),
      expected: mediaType,
    });
  }
  add('a 1 MB body', { body: oneMegabyte, expected: tooLarge });
  if (route.schemaless) return cases;

  for (const [label, body] of [
    ['an array', '[]'],
    ['an array of objects', '[{}]'],
    ['a string', '"text"'],
    ['a number', '42'],
    ['a boolean', 'true'],
    ...(route.nullable ? [] : [['null', 'null'] as const, ['an empty body', ''] as const]),
  ] as const) {
    add(`a body that is not an object (${label})`, { body, expected: malformed });
  }
  add('a __proto__ key', {
    body: (w) => `{"__proto__":{"admin":true},${JSON.stringify(route.valid(w)).slice(1)}`,
    expected: malformed,
  });
  add('a constructor.prototype key', {
    body: (w) => `{"constructor":{"prototype":{"admin":true}},${JSON.stringify(route.valid(w)).slice(1)}`,
    expected: malformed,
  });
  add('a nested __proto__ key', {
    body: (w) => JSON.stringify(route.valid(w)).replace(/}$/, ',"extra":{"__proto__":{"admin":true}}}'),
    expected: malformed,
  });

  for (const field of route.fields) {
    const { name } = field;
    if (field.required) add(`${name} missing`, { body: withoutField(route, name), expected: missing(name) });
    const wrongTypes: Array<[string, unknown]> =
      field.type === 'string'
        ? [
            ['a number', 42],
            ['a boolean', true],
            ['an object', { value: 'x' }],
            ['an array', ['x']],
          ]
        : [
            ['a string', '1'],
            ['a boolean', true],
            ['an object', {}],
            ['an array', [1]],
            ['a fraction', 1.5],
            ['1e309', RAW],
          ];
    if (!field.nullable) wrongTypes.push(['null', null]);
    for (const [label, value] of wrongTypes) {
      add(`${name} as ${label}`, { body: withField(route, name, value), expected: format(name) });
    }
    if (field.empty) add(`${name} empty`, { body: withField(route, name, ''), expected: field.empty });
    for (const value of field.tooLong ?? []) {
      add(`${name} too long (${codePoints(value)} code points)`, {
        body: withField(route, name, value),
        expected: length(name),
      });
    }
    for (const value of field.tooShort ?? []) {
      add(`${name} too short (${codePoints(value)} code points)`, {
        body: withField(route, name, value),
        expected: length(name),
      });
    }
    for (const [label, value] of field.invalid ?? []) {
      add(`${name} with ${label}`, { body: withField(route, name, value), expected: invalid(name) });
    }
  }
  return cases;
}

/** The routes that need a token, with a URL that would otherwise succeed. */
const protectedRoutes: Array<{ label: string; method: Method; url: Dyn<string> }> = [
  { label: 'profile', method: 'GET', url: '/v1/api/user' },
  { label: 'change password', method: 'PUT', url: '/v1/api/user/password' },
  { label: 'delete account', method: 'DELETE', url: '/v1/api/user' },
  { label: 'identities', method: 'GET', url: '/v1/api/user/identities' },
  { label: 'unbind', method: 'DELETE', url: '/v1/api/user/bind/google' },
  ...thirdParty.map(({ provider }) => ({
    label: `${provider} bind`,
    method: 'POST' as const,
    url: `/v1/api/user/bind/${provider}`,
  })),
  ...channels.flatMap(({ name, path, seq }) => [
    { label: `${name}: register`, method: 'POST' as const, url: path },
    { label: `${name}: list`, method: 'GET' as const, url: path },
    { label: `${name}: update`, method: 'PUT' as const, url: (w: World) => `${path}/${seq(w)}` },
    { label: `${name}: delete one`, method: 'DELETE' as const, url: (w: World) => `${path}/${seq(w)}` },
    { label: `${name}: delete all`, method: 'DELETE' as const, url: path },
  ]),
];

const badTokens: Array<[string, Dyn<Record<string, string>>, ExpectedError]> = [
  ['no token', {}, noToken],
  ['an empty token header', { token: '' }, noToken],
  ['a blank token header', { token: '   ' }, noToken],
  ['a Basic authorization', { authorization: 'Basic dXNlcjpwYXNz' }, noToken],
  ['a Bearer without a token', { authorization: 'Bearer' }, noToken],
  ['a token in the body only', {}, noToken],
  ['a garbage token', { token: 'garbage' }, invalidToken],
  ['a token with a space', { token: 'abc def' }, invalidToken],
  ['an 8 KiB token', { token: 'x'.repeat(8192) }, invalidToken],
  ['a SQL token', { token: "' OR 1=1 --" }, invalidToken],
  ['a Latin-1 token', { token: 'ÿþ\u00e9' }, invalidToken],
  ['a garbage Bearer token', { authorization: 'Bearer garbage' }, invalidToken],
  ['the reflash_key as token', (w) => ({ token: w.owner.reflash_key }), invalidToken],
  ['the token of a logged-out session', (w) => ({ token: w.endedToken }), invalidToken],
];

function tokenCases(): Case[] {
  return protectedRoutes.flatMap((route) =>
    badTokens.map(
      ([label, headers, expected]): Case => ({
        name: `${route.label}: ${label}`,
        method: route.method,
        url: route.url,
        headers,
        ...(label === 'a token in the body only'
          ? { body: (w: World) => JSON.stringify({ token: w.owner.token }) }
          : {}),
        expected,
      }),
    ),
  );
}

const badSeqs: Array<[string, string]> = [
  ['negative', '-1'],
  ['a fraction', '1.5'],
  ['non-numeric', 'abc'],
  ['1e309', '1e309'],
  ['Infinity', 'Infinity'],
  ['NaN', 'NaN'],
  ['hexadecimal', '0x1A'],
  ['a plus sign', '+1'],
  ['20 digits', '9'.repeat(20)],
  ['beyond 2^53', '9007199254740993'],
  ['empty', ''],
  ['a leading space', '%201'],
  ['a NUL', '1%00'],
  ['an RTL mark', '%E2%80%8F1'],
  ['a fullwidth digit', '%EF%BC%91'],
  ['SQL (OR 1=1)', encodeURIComponent("1' OR 1=1 --")],
  ['SQL (DROP TABLE)', encodeURIComponent('1; DROP TABLE registrations')],
];

function seqCases(): Case[] {
  return channels.flatMap(({ name, path }) =>
    (['PUT', 'DELETE'] as const).flatMap((method) => {
      const body = method === 'PUT' ? { body: JSON.stringify({ language: 'fr' }) } : {};
      const label = `${name}: ${method === 'PUT' ? 'update' : 'delete one'}`;
      const other = name === 'ring' ? 'message' : 'ring';
      return [
        ...badSeqs.map(
          ([what, seq]): Case => ({
            name: `${label}: seq ${what}`,
            method,
            url: `${path}/${seq}`,
            headers: ownerToken,
            ...body,
            expected: invalid('seq'),
          }),
        ),
        ...(
          [
            ['seq 0', () => '0'],
            ['a 15-digit seq that does not exist', () => '999999999999999'],
            [
              "another user's seq",
              (w: World) => String(name === 'ring' ? w.seqs.otherRing : w.seqs.otherMessage),
            ],
            [`the caller's own seq from the ${other} channel`, (w: World) => String(w.seqs[other])],
          ] as const
        ).map(
          ([what, seq]): Case => ({
            name: `${label}: ${what}`,
            method,
            url: (w) => `${path}/${seq(w)}`,
            headers: ownerToken,
            ...body,
            expected: notFound,
          }),
        ),
      ];
    }),
  );
}

/** Well-formed requests the service itself turns down. */
const refusedCases: Case[] = [
  ...["' OR 1=1 --", "'; DROP TABLE users; --", 'nobody_here', '\ud800\udfff'].map(
    (username): Case => ({
      name: `login: unknown user ${JSON.stringify(username)}`,
      method: 'POST',
      url: '/v1/api/user/login',
      headers: {},
      body: JSON.stringify({ username, password: 'whatever password' }),
      expected: plain('BAD_CREDENTIALS'),
    }),
  ),
  {
    name: 'login: wrong password',
    method: 'POST',
    url: '/v1/api/user/login',
    headers: {},
    body: (w) => JSON.stringify({ username: w.owner.username, password: `${w.owner.password}!` }),
    expected: plain('BAD_CREDENTIALS'),
  },
  ...["' OR 1=1 --", "'; DROP TABLE session_credentials; --", 'garbage'].map(
    (key): Case => ({
      name: `reflash: key ${JSON.stringify(key)}`,
      method: 'POST',
      url: '/v1/api/user/reflash',
      headers: {},
      body: JSON.stringify({ reflash_key: key }),
      expected: plain('INVALID_REFLASH_KEY'),
    }),
  ),
  {
    // Text with NUL is refused by every schema, before any lookup.
    name: 'reflash: key "k\u0000ey"',
    method: 'POST',
    url: '/v1/api/user/reflash',
    headers: {},
    body: JSON.stringify({ reflash_key: 'k\u0000ey' }),
    expected: expectedError('FIELD_INVALID', 'reflash_key'),
  },
  {
    name: 'reflash: the token as reflash_key',
    method: 'POST',
    url: '/v1/api/user/refresh',
    headers: {},
    body: (w) => JSON.stringify({ reflash_key: w.owner.token }),
    expected: plain('INVALID_REFLASH_KEY'),
  },
  {
    name: 'register: a taken user name in other case',
    method: 'POST',
    url: '/v1/api/user',
    headers: {},
    body: (w) =>
      JSON.stringify({ username: w.owner.username.toUpperCase(), password: 'correct horse battery' }),
    expected: plain('USERNAME_EXISTS'),
  },
  {
    name: 'register: a taken e-mail in other case',
    method: 'POST',
    url: '/v1/api/user',
    headers: {},
    body: (w) =>
      JSON.stringify({
        username: 'fresh_user',
        password: 'correct horse battery',
        email: w.owner.email.toUpperCase(),
      }),
    expected: plain('EMAIL_EXISTS'),
  },
  {
    name: 'register: a taken phone number',
    method: 'POST',
    url: '/v1/api/user',
    headers: {},
    body: (w) =>
      JSON.stringify({ username: 'fresh_user', password: 'correct horse battery', phone: w.owner.phone }),
    expected: plain('PHONE_EXISTS'),
  },
  {
    name: 'logout: no token anywhere',
    method: 'POST',
    url: '/v1/api/user/logout',
    headers: {},
    expected: noToken,
  },
  {
    name: 'logout: an empty token in the body',
    method: 'POST',
    url: '/v1/api/user/logout',
    headers: {},
    body: JSON.stringify({ token: '  ' }),
    expected: noToken,
  },
  ...["' OR 1=1 --", 'garbage'].map(
    (token): Case => ({
      name: `logout: body token ${JSON.stringify(token)}`,
      method: 'POST',
      url: '/v1/api/user/logout',
      headers: {},
      body: JSON.stringify({ token }),
      expected: invalidToken,
    }),
  ),
  {
    name: 'logout: the token of a logged-out session in the body',
    method: 'POST',
    url: '/v1/api/user/logout',
    headers: {},
    body: (w) => JSON.stringify({ token: w.endedToken }),
    expected: invalidToken,
  },
  {
    name: 'logout: another user name',
    method: 'POST',
    url: '/v1/api/user/logout',
    headers: ownerToken,
    body: (w) => JSON.stringify({ username: w.other.username }),
    expected: invalidToken,
  },
  {
    name: 'logout: a SQL user name',
    method: 'POST',
    url: '/v1/api/user/logout',
    headers: ownerToken,
    body: JSON.stringify({ username: "' OR 1=1 --" }),
    expected: invalidToken,
  },
  {
    name: 'change password: wrong old password',
    method: 'PUT',
    url: '/v1/api/user/password',
    headers: ownerToken,
    body: JSON.stringify({ old_password: 'not the password', new_password: 'another good password' }),
    expected: plain('WRONG_PASSWORD'),
  },
  {
    name: 'delete account: wrong password',
    method: 'DELETE',
    url: '/v1/api/user',
    headers: ownerToken,
    body: JSON.stringify({ password: "' OR 1=1 --" }),
    expected: plain('WRONG_PASSWORD'),
  },
  ...channels.flatMap(({ name, path }): Case[] => [
    {
      name: `${name}: register under another user's id`,
      method: 'POST',
      url: path,
      headers: ownerToken,
      body: (w) => JSON.stringify({ push_token: 'some-token', language: 'en', id: w.other.id }),
      expected: expectedError('FORBIDDEN', 'id'),
    },
    {
      name: `${name}: register under a huge id`,
      method: 'POST',
      url: path,
      headers: ownerToken,
      body: JSON.stringify({ push_token: 'some-token', language: 'en', id: 1e20 }),
      // Outside 64 bits: refused by the schema, as on PostgreSQL it could not be compared.
      expected: expectedError('FIELD_INVALID', 'id'),
    },
    ...(
      [
        ['an empty object', '{}'],
        ['only unknown fields', '{"pushtoken":"abc","lang":"en","os":"iOS"}'],
      ] as const
    ).map(
      ([what, body]): Case => ({
        name: `${name}: update with ${what}`,
        method: 'PUT',
        url: (w) => `${path}/${w.seqs[name]}`,
        headers: ownerToken,
        body,
        expected: malformed,
      }),
    ),
  ]),
  ...(
    [
      ['no code and no access_token', {}, missing('code')],
      ['only an openid', { openid: 'oABC' }, missing('code')],
      ['an access_token without openid', { access_token: 'tok' }, missing('openid')],
    ] as const
  ).map(
    ([what, body, expected]): Case => ({
      name: `weixin login: ${what}`,
      method: 'POST',
      url: '/v1/api/user/weixin/app/login',
      headers: {},
      body: JSON.stringify(body),
      expected,
    }),
  ),
  ...thirdParty.flatMap(({ provider, valid }): Case[] => [
    {
      name: `${provider} login: not configured`,
      method: 'POST',
      url: `/v1/api/user/${provider}/app/login`,
      headers: {},
      body: JSON.stringify(valid()),
      expected: expectedError('PROVIDER_NOT_CONFIGURED', provider),
    },
    {
      name: `${provider} bind: not configured`,
      method: 'POST',
      url: `/v1/api/user/bind/${provider}`,
      headers: ownerToken,
      body: JSON.stringify(valid()),
      expected: expectedError('PROVIDER_NOT_CONFIGURED', provider),
    },
    {
      name: `unbind ${provider}: nothing bound`,
      method: 'DELETE',
      url: `/v1/api/user/bind/${provider}`,
      headers: ownerToken,
      expected: notFound,
    },
  ]),
  ...['twitter', 'GOOGLE', '', '%00', encodeURIComponent("' OR 1=1 --")].map(
    (provider): Case => ({
      name: `unbind: provider ${JSON.stringify(provider)}`,
      method: 'DELETE',
      url: `/v1/api/user/bind/${provider}`,
      headers: ownerToken,
      expected: invalid('provider'),
    }),
  ),
  {
    name: 'unknown route',
    method: 'GET',
    url: '/v1/api/users',
    headers: ownerToken,
    expected: plain('ROUTE_NOT_FOUND'),
  },
  {
    name: 'unknown method on a known path',
    method: 'PUT',
    url: '/v1/api/user/login',
    headers: {},
    body: '{}',
    expected: plain('ROUTE_NOT_FOUND'),
  },
  // An unknown route is a 404 whatever the body: it is not read at all.
  ...(
    [
      ['malformed JSON', 'application/json', '{"a":'],
      ['a 1 MB body', 'application/json', oneMegabyte],
      ['text/plain', 'text/plain', 'hello'],
      ['an invalid content-type', 'json;;;', '{}'],
    ] as const
  ).flatMap(([what, contentType, body]): Case[] => [
    {
      name: `unknown route with ${what}`,
      method: 'POST',
      url: '/v1/api/users',
      headers: {},
      contentType,
      body,
      expected: plain('ROUTE_NOT_FOUND'),
    },
    {
      name: `unknown method on a known path with ${what}`,
      method: 'PUT',
      url: '/v1/api/user/token',
      headers: ownerToken,
      contentType,
      body,
      expected: plain('ROUTE_NOT_FOUND'),
    },
  ]),
  ...(['/v1/api/user', '/v1/api/user/token'] as const).map(
    (url): Case => ({
      name: `GET ${url} ignores a body of any type`,
      method: 'GET',
      url,
      headers: ownerToken,
      contentType: 'text/plain',
      body: "'; DROP TABLE users; --",
      expected: { status: 200 },
    }),
  ),
];

const cases: Case[] = [...bodyRoutes.flatMap(bodyCases), ...tokenCases(), ...seqCases(), ...refusedCases];

// ---------------------------------------------------------------------------------------------

describe.each(testDialects())('bad input on %s', (dialect) => {
  let t: TestApp;
  let world: World;

  beforeAll(async () => {
    t = await createTestApp(dialect, {
      RATE_LIMIT_FAILURES_PER_ACCOUNT_IP: '1000000',
      RATE_LIMIT_FAILURES_PER_ACCOUNT: '1000000',
    });
    const ownerName = uniqueUsername('owner');
    const email = `${ownerName}@example.com`;
    const phone = `+1${String(Date.now()).slice(-10)}`;
    const owner = await registerUser(t.app, { username: ownerName, email, phone });
    const other = await registerUser(t.app);
    const ended = await registerUser(t.app);
    const logout = await t.app.inject({
      method: 'POST',
      url: '/v1/api/user/logout',
      headers: { token: ended.token },
    });
    expect(logout.statusCode).toBe(200);

    const seqOf = async (user: User, path: string, pushToken: string) => {
      const add = await t.app.inject({
        method: 'POST',
        url: path,
        headers: { token: user.token },
        payload: { push_token: pushToken, language: 'en', os: 'Android', push_platform: 'FCM' },
      });
      expect(add.statusCode).toBe(201);
      const list = await t.app.inject({ method: 'GET', url: path, headers: { token: user.token } });
      const rows = list.json() as Array<{ seq: number; push_token: string }>;
      const row = rows.find((entry) => entry.push_token === pushToken);
      if (row === undefined) throw new Error(`no row for ${pushToken}`);
      return row.seq;
    };
    const seqs = {
      ring: await seqOf(owner, channels[0].path, 'owner-ring-token'),
      message: await seqOf(owner, channels[1].path, 'owner-message-token'),
      otherRing: await seqOf(other, channels[0].path, 'other-ring-token'),
      otherMessage: await seqOf(other, channels[1].path, 'other-message-token'),
    };
    await seqOf(owner, channels[0].path, 'owner-second-ring-token');
    world = { owner: { ...owner, email, phone }, other, endedToken: ended.token, seqs };
  });
  afterAll(async () => t.close());

  /**
   * The tables as the seeding left them; each case compares the tables after its request with
   * it (one snapshot per case, not two). A case that changed them moves it, so that a failure
   * stays with the case that caused it.
   */
  let unchanged: TablesSnapshot | undefined;

  it.each(cases)('$name', async (c) => {
    const headers: Record<string, string> = { ...resolve(c.headers, world) };
    const body = c.body === undefined ? undefined : resolve(c.body, world);
    if (c.contentType !== null && (c.contentType !== undefined || body !== undefined)) {
      headers['content-type'] = c.contentType ?? 'application/json';
    }
    unchanged ??= await snapshotTables(t.database.handle.db);
    const before = unchanged;
    const response = await t.app.inject({
      method: c.method,
      url: resolve(c.url, world),
      headers,
      ...(body === undefined ? {} : { payload: body }),
    });
    const after = await snapshotTables(t.database.handle.db);
    unchanged = after;

    expect(response.statusCode, response.body.slice(0, 300)).toBe(c.expected.status);
    if ('body' in c.expected) {
      expect(response.json()).toStrictEqual(c.expected.body);
      assertErrorResponse(response);
    }
    expect(after).toStrictEqual(before);
  });

  it('left the seeded data and the owner’s session intact, and polluted no prototype', async () => {
    const snapshot = await snapshotTables(t.database.handle.db);
    expect(snapshot.users.length).toBe(3);
    expect(snapshot.registrations.map((row) => row.push_token).sort()).toEqual([
      'other-message-token',
      'other-ring-token',
      'owner-message-token',
      'owner-ring-token',
      'owner-second-ring-token',
    ]);
    const profile = await t.app.inject({
      method: 'GET',
      url: '/v1/api/user',
      headers: { token: world.owner.token },
    });
    expect(profile.statusCode).toBe(200);
    const login = await t.app.inject({
      method: 'POST',
      url: '/v1/api/user/login',
      payload: { username: world.owner.username, password: world.owner.password },
    });
    expect(login.statusCode).toBe(201);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
    expect(Object.keys(Object.prototype)).toEqual([]);
  });
});

describe.each(testDialects())('URLs the router cannot decode on %s', (dialect) => {
  let t: TestApp;
  let token: string;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    token = (await registerUser(t.app)).token;
  });
  afterAll(async () => t.close());

  // Fastify answers these before routing; without the `frameworkErrors` mapping its own body
  // would echo the URL with a code outside the catalogue.
  it.each([
    ['a bad percent-encoding in seq', '/v1/api/user/token/%ZZ'],
    ['a lone percent sign in seq', '/v1/api/user/message/token/%'],
    ['a seq over 100 characters', `/v1/api/user/token/${'1'.repeat(101)}`],
    ['a bad percent-encoding elsewhere', '/v1/api/%E0%A4%A'],
  ])('%s gets a catalogue error that does not echo the URL', async (_label, url) => {
    const response = await t.app.inject({
      method: 'DELETE',
      url,
      headers: { token, 'content-type': 'application/json' },
    });
    expect(response.statusCode).toBe(404);
    assertErrorResponse(response);
    expect(response.json()).toEqual({ message: 'no func', code: 'ROUTE_NOT_FOUND' });
    expect(response.body).not.toContain(url.slice(-3));
  });
});

describe.each(testDialects())('a server error on %s', (dialect) => {
  const internal = '{"message":"server error","code":"INTERNAL"}';

  it('answers exactly {"message":"server error","code":"INTERNAL"}, without stack or SQL', async () => {
    const t = await createTestApp(dialect);
    try {
      const user = await registerUser(t.app);
      // A table disappears under the running app: the driver's error names it in SQL terms.
      await sql`drop table registrations`.execute(t.database.handle.db);
      const list = await t.app.inject({
        method: 'GET',
        url: '/v1/api/user/token',
        headers: { token: user.token },
      });
      expect(list.statusCode).toBe(500);
      expect(list.headers['content-type']).toMatch(/^application\/json/);
      expect(list.body).toBe(internal);

      // Then the whole database goes away.
      await t.database.handle.close();
      const requests = [
        { method: 'GET', url: '/v1/api/user', headers: { token: user.token } },
        {
          method: 'POST',
          url: '/v1/api/user/login',
          payload: { username: user.username, password: user.password },
        },
        {
          method: 'POST',
          url: '/v1/api/user',
          payload: { username: uniqueUsername(), password: 'long enough pw' },
        },
        { method: 'POST', url: '/v1/api/user/reflash', payload: { reflash_key: user.reflash_key } },
      ] as const;
      for (const request of requests) {
        const response = await t.app.inject(request);
        expect(response.statusCode, `${request.method} ${request.url}`).toBe(500);
        expect(response.body).toBe(internal);
        assertErrorResponse(response);
      }
      const ready = await t.app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      expect((ready.json() as { code: string }).code).toBe('SERVICE_UNAVAILABLE');
      expect(ready.body).not.toMatch(/destroyed|pool|sqlite|select|relation|stack|Error/i);
    } finally {
      await t.close();
    }
  });
});
