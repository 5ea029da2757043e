/** Bad-input cases for every route with a JSON body: broken JSON, wrong media types, and each field spoiled in turn. */
import {
  type BodyRoute,
  badEmails,
  type Case,
  channels,
  codePoints,
  format,
  invalid,
  length,
  loneSurrogatePasswords,
  malformed,
  mediaType,
  missing,
  noHeaders,
  notPlainAscii,
  oneMegabyte,
  ownerToken,
  passwordField,
  registrationFields,
  sized,
  thirdParty,
  tooLarge,
  type World,
} from './bad-input.js';

export const bodyRoutes: BodyRoute[] = [
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

export function bodyCases(route: BodyRoute): Case[] {
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
