/** Bad-input cases for missing and bad session tokens on every protected route, and for bad seqs in URLs. */

import {
  type Case,
  channels,
  type Dyn,
  invalid,
  invalidToken,
  type Method,
  noToken,
  notFound,
  ownerToken,
  thirdParty,
  type World,
} from './bad-input.js';
import type { ExpectedError } from './error-contract.js';

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

export function tokenCases(): Case[] {
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

export function seqCases(): Case[] {
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
