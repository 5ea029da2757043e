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
