/** The bad-input cases' vocabulary: the world they refer to, expected errors, hostile values, field tables. */
import type { ErrorCode } from '../../src/errors.js';
import type { LoginBody } from './app.js';
import { type ExpectedError, expectedError } from './error-contract.js';

export const missing = (field: string) => expectedError('FIELD_MISSING', field);
export const length = (field: string) => expectedError('FIELD_LENGTH', field);
export const format = (field: string) => expectedError('FIELD_FORMAT', field);
export const invalid = (field: string) => expectedError('FIELD_INVALID', field);
export const plain = (code: ErrorCode) => expectedError(code);
export const malformed = plain('MALFORMED_BODY');
export const tooLarge = plain('BODY_TOO_LARGE');
export const mediaType = plain('UNSUPPORTED_MEDIA_TYPE');
export const noToken = plain('NO_TOKEN');
export const invalidToken = plain('INVALID_TOKEN');
export const notFound = plain('NOT_FOUND');

export interface User extends LoginBody {
  username: string;
  password: string;
}

/** What the cases refer to; built per dialect before they run. */
export interface World {
  owner: User & { email: string; phone: string };
  other: User;
  /** A token whose session has been logged out. */
  endedToken: string;
  seqs: { ring: number; message: number; otherRing: number; otherMessage: number };
}

export type Dyn<T> = T | ((world: World) => T);
export const resolve = <T>(value: Dyn<T>, world: World): T =>
  typeof value === 'function' ? (value as (world: World) => T)(world) : value;

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface Case {
  name: string;
  method: Method;
  url: Dyn<string>;
  headers: Dyn<Record<string, string>>;
  body?: Dyn<string | Buffer>;
  /** Sent as is; `null` sends no content-type at all. Default: application/json with a body. */
  contentType?: string | null;
  expected: ExpectedError | { status: number };
}

export const ownerToken = (world: World) => ({ token: world.owner.token });
export const noHeaders = () => ({});

// ---------------------------------------------------------------------------------------------
// Values

/** Code points, as JSON Schema's minLength/maxLength count them. */
export const codePoints = (text: string) => Array.from(text).length;

/** Pads `text` with `x` up to `min` code points; values longer than `max` are left out. */
export function sized(values: Array<[string, string]>, min: number, max: number): Array<[string, string]> {
  return values
    .map(([label, text]): [string, string] => [label, text + 'x'.repeat(Math.max(0, min - codePoints(text)))])
    .filter(([, text]) => codePoints(text) <= max);
}

/** Text that a strict ASCII pattern (user names, push tokens, language tags, …) rejects. */
export const notPlainAscii: Array<[string, string]> = [
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
export const oneMegabyte = JSON.stringify({ padding: 'x'.repeat(1024 * 1024) });

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

export const badEmails: Array<[string, string]> = [
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

export const loneSurrogatePasswords: Array<[string, string]> = [
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

export interface BodyRoute {
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
export const registrationFields = (update: boolean): Field[] => [
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

export const channels = [
  { name: 'ring', path: '/v1/api/user/token', seq: (w: World) => w.seqs.ring },
  { name: 'message', path: '/v1/api/user/message/token', seq: (w: World) => w.seqs.message },
] as const;

export const passwordField = (name: string): Field => ({
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

export const thirdParty: Array<{ provider: string; valid: () => Record<string, unknown>; fields: Field[] }> =
  [
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
