import type { IdentityProvider } from '../db/schema.js';

/** What Apple gave at a code exchange, kept sealed so that account deletion can revoke it. */
export interface AppleCredentials {
  client_id: string;
  refresh_token: string;
}

/** A third-party identity the provider has vouched for. */
export interface VerifiedIdentity {
  provider: IdentityProvider;
  /** The stable key of the person at the provider (see IdentitiesTable.subject). */
  subject: string;
  /** Earlier keys of the same person, upgraded to `subject` when found: WeChat's `appid:openid`. */
  formerSubjects: string[];
  /** The name the provider (or, for Apple, the user) gives now; replaces the kept one. */
  displayName: string | null;
  /** Shown only while nothing better is known: the e-mail. */
  fallbackName: string | null;
  credentials: AppleCredentials | undefined;
}

export interface WeixinInput {
  code?: string | undefined;
  access_token?: string | undefined;
  openid?: string | undefined;
}

export interface FacebookInput {
  access_token: string;
}

export interface AppleInput {
  identity_token: string;
  authorization_code?: string | undefined;
  nonce?: string | undefined;
  full_name?: string | undefined;
}

export interface GoogleInput {
  id_token: string;
}

export interface ProviderInputs {
  weixin: WeixinInput;
  facebook: FacebookInput;
  apple: AppleInput;
  google: GoogleInput;
}

export interface IdentityVerifier<Input> {
  verify(input: Input): Promise<VerifiedIdentity>;
}
