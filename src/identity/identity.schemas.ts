import { Type } from 'typebox';

/** Tokens, codes and ids: printable ASCII without spaces. */
const opaque = (description: string, maxLength: number) =>
  Type.String({ minLength: 1, maxLength, pattern: '^[\\x21-\\x7E]+$', description });

const apikey = Type.Optional(
  Type.String({ maxLength: 64, description: 'the manual’s optional app key; accepted and ignored' }),
);

export const WeixinLoginBody = Type.Object(
  {
    code: Type.Optional(
      opaque('the code of the WeChat SDK’s SendAuth (recommended: the app secret stays on the server)', 512),
    ),
    access_token: Type.Optional(opaque('a WeChat user access token (the manual’s form; with `openid`)', 512)),
    openid: Type.Optional(opaque('the openid the access token belongs to', 128)),
    apikey,
  },
  { description: 'Either `{code}` or `{access_token, openid}`.' },
);

export const FacebookLoginBody = Type.Object({
  access_token: opaque('the user access token of the Facebook SDK', 4096),
  apikey,
});

export const AppleLoginBody = Type.Object({
  identity_token: opaque('`identityToken` of the Apple ID credential (a JWT)', 8192),
  authorization_code: Type.Optional(
    opaque('`authorizationCode`: exchanged for a refresh token so that account deletion can revoke it', 1024),
  ),
  nonce: Type.Optional(opaque('the raw nonce whose SHA-256 (hex) the app passed to Apple', 256)),
  full_name: Type.Optional(
    Type.String({
      maxLength: 128,
      pattern: '^[^\\x00-\\x1F\\x7F\\uD800-\\uDFFF]*$',
      description: 'the name Apple gives the app on the first authorization only',
    }),
  ),
});

export const GoogleLoginBody = Type.Object({
  id_token: opaque('the ID token of Google Sign-In (its audience is one of GOOGLE_CLIENT_IDS)', 8192),
});

const Provider = Type.Union(
  [Type.Literal('weixin'), Type.Literal('facebook'), Type.Literal('apple'), Type.Literal('google')],
  { description: 'weixin, facebook, apple or google' },
);

export const ProviderParams = Type.Object({ provider: Provider });

const linkedFields = {
  provider: Provider,
  display_name: Type.Union([Type.String(), Type.Null()], {
    description: 'the name or e-mail the provider gave, when any',
  }),
  linked_at: Type.Integer({ description: 'Unix seconds' }),
};

export const LinkedIdentity = Type.Object(linkedFields);

export const BindResponse = Type.Object({ ...linkedFields, message: Type.Literal('success') });

export const IdentitiesResponse = Type.Array(LinkedIdentity, {
  description: 'The caller’s third-party identities; tokens are never shown.',
});
