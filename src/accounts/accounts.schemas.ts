import { Type } from 'typebox';

/**
 * Text that is stored or looked up in the database: no control characters (PostgreSQL rejects
 * NUL) and no lone UTF-16 surrogates (UTF-8 cannot encode them; drivers turn them into U+FFFD,
 * so that different strings would compare equal). Patterns run with the `u` flag.
 */
const noControl = '\\x00-\\x1F\\x7F';
const noLoneSurrogate = '\\uD800-\\uDFFF';
const emailPart = `[^@\\s${noControl}${noLoneSurrogate}]+`;

const Password = Type.String({
  minLength: 8,
  maxLength: 128,
  pattern: `^[^${noLoneSurrogate}]+$`,
  description: '8–128 characters',
});

export const RegisterBody = Type.Object({
  username: Type.String({
    minLength: 6,
    maxLength: 32,
    pattern: '^[A-Za-z0-9_.\\-]+$',
    description: '6–32 letters, digits, `_`, `.` or `-`',
  }),
  password: Password,
  email: Type.Optional(
    Type.String({
      maxLength: 254,
      // Empty means "not given": clients send every field of the form.
      pattern: `^(${emailPart}@${emailPart}\\.${emailPart})?$`,
      description: 'unique when given; empty = not given',
    }),
  ),
  phone: Type.Optional(
    Type.String({
      maxLength: 20,
      pattern: '^(\\+?[0-9]{5,19})?$',
      description: 'unique when given; empty = not given',
    }),
  ),
});

export const LoginBody = Type.Object({
  username: Type.String({
    minLength: 1,
    maxLength: 254,
    pattern: `^[^${noControl}]+$`,
    description: 'user name, phone number or e-mail',
  }),
  password: Type.String({ minLength: 1, maxLength: 128 }),
});

export const ReflashBody = Type.Object({ reflash_key: Type.String({ minLength: 1, maxLength: 256 }) });

/** The manual sends `{username, token}`; with the token in the header the body may be empty. */
export const LogoutBody = Type.Union([
  Type.Object({
    username: Type.Optional(Type.String({ maxLength: 254 })),
    token: Type.Optional(Type.String({ maxLength: 256 })),
  }),
  Type.Null(),
]);

export const ChangePasswordBody = Type.Object({
  old_password: Type.String({ minLength: 1, maxLength: 128 }),
  new_password: Password,
});

/** `password` is required from users who have one; a user without one (third-party login) sends `{}`. */
export const DeleteAccountBody = Type.Object({
  password: Type.Optional(
    Type.String({ minLength: 1, maxLength: 128, description: 'required when the account has a password' }),
  ),
});

export const LoginResponse = Type.Object({
  id: Type.Integer({ description: 'user id' }),
  token: Type.String({ description: 'send it in the `token` header of every later call' }),
  reflash_key: Type.String({ description: 'trade it at /v1/api/user/reflash for a new pair; single use' }),
  time: Type.Integer({ description: 'Unix seconds at which `token` expires' }),
  expires_in: Type.Integer({ description: 'seconds until `token` expires' }),
  message: Type.Literal('success'),
});

export const ProfileResponse = Type.Object({
  id: Type.Integer(),
  username: Type.String(),
  email: Type.Union([Type.String(), Type.Null()]),
  phone: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.Integer({ description: 'Unix seconds' }),
});
