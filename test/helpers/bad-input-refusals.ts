/** Bad-input cases written out one by one rather than generated from a route table. */
import {
  type Case,
  channels,
  invalid,
  invalidToken,
  malformed,
  missing,
  noToken,
  notFound,
  oneMegabyte,
  ownerToken,
  plain,
  thirdParty,
} from './bad-input.js';
import { expectedError } from './error-contract.js';

/** Well-formed requests the service itself turns down. */
export const refusedCases: Case[] = [
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
