/** A fake Google key set (`/oauth2/v3/certs`) and the ID tokens Google Sign-In would give. */
import { HttpFake } from './http-fake.js';
import { OidcKeys, type SignOptions } from './oidc-keys.js';

export class FakeGoogle {
  readonly keys = new OidcKeys(['google-key-1', 'google-key-2']);
  readonly clientId = '123456789012-abcdefghijklmnop.apps.googleusercontent.com';
  readonly androidClientId = '123456789012-android.apps.googleusercontent.com';

  private constructor(
    readonly http: HttpFake,
    private readonly now: () => number,
  ) {}

  /** With `tls` the key set is served over HTTPS with that certificate. */
  static async start(now: () => number, tls?: { key: string; cert: string }): Promise<FakeGoogle> {
    let fake: FakeGoogle | undefined;
    const http = await HttpFake.start((request) => {
      if (fake === undefined || request.path !== '/oauth2/v3/certs') return { status: 404, text: '' };
      return {
        json: fake.keys.jwks(),
        headers: { 'cache-control': 'public, max-age=20000, must-revalidate' },
      };
    }, tls);
    fake = new FakeGoogle(http, now);
    return fake;
  }

  get jwksUrl(): string {
    return `${this.http.url}/oauth2/v3/certs`;
  }

  idToken(claims: { sub: string } & Record<string, unknown>, options: SignOptions = {}): string {
    const iat = Math.floor(this.now() / 1000);
    return this.keys.sign(
      {
        iss: 'https://accounts.google.com',
        azp: this.androidClientId,
        aud: this.clientId,
        iat,
        exp: iat + 3600,
        email_verified: true,
        ...claims,
      },
      options,
    );
  }

  close(): Promise<void> {
    return this.http.close();
  }
}
