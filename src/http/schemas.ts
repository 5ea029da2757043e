import { Type } from 'typebox';

export const ErrorBody = Type.Object(
  {
    message: Type.String({ description: "The manual's wording, e.g. `undefined push_token`" }),
    code: Type.String({ description: 'Stable machine-readable code, e.g. `FIELD_MISSING`' }),
  },
  { $id: 'ErrorBody', description: 'Every error has this shape.' },
);

export const SuccessBody = Type.Object({ message: Type.Literal('success') });

/** Responses every authenticated route may give besides its own. */
export const authErrors = { 401: ErrorBody, 429: ErrorBody } as const;
export const commonErrors = { 400: ErrorBody, 413: ErrorBody, 415: ErrorBody } as const;

export const tokenSecurity: Array<Record<string, string[]>> = [{ token: [] }, { bearer: [] }];

/** A language tag, as phones register it and as apps and sends name their texts. */
export const Language = Type.String({
  minLength: 2,
  maxLength: 35,
  pattern: '^[A-Za-z]{2,8}([_-][A-Za-z0-9]{1,8})*$',
  description:
    'the phone’s language, a BCP 47 tag such as `en`, `zh-CN`, `zh-Hant-TW` (`_` is accepted for `-`)',
});

/** An app's bundle id as a path parameter. */
export const BundleParams = Type.Object({
  bundleid: Type.String({ minLength: 1, maxLength: 155, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' }),
});
