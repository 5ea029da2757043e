/**
 * A fake Facebook Graph API: `debug_token` (under the app token `app_id|app_secret`) and `/me`
 * (checking `appsecret_proof`), with the error bodies the Graph API sends (OAuthException 190).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { type FakeReply, HttpFake } from './http-fake.js';

interface IssuedToken {
  userId: string;
  name: string;
  appId: string;
  valid: boolean;
}

const oauthError = (message: string, extra: Record<string, unknown> = {}): FakeReply => ({
  status: 400,
  json: {
    error: {
      message,
      type: 'OAuthException',
      code: 190,
      ...extra,
      fbtrace_id: randomBytes(8).toString('hex'),
    },
  },
});

export class FakeFacebook {
  appId = '1234567890123456';
  appSecret = 'facebook-app-secret-0123456789';
  private readonly tokens = new Map<string, IssuedToken>();

  private constructor(readonly http: HttpFake) {}

  static async start(): Promise<FakeFacebook> {
    let fake: FakeFacebook | undefined;
    const http = await HttpFake.start((request) =>
      fake === undefined ? { status: 503 } : fake.answer(request.path, request.query),
    );
    fake = new FakeFacebook(http);
    return fake;
  }

  get url(): string {
    return this.http.url;
  }

  /** A user access token; `appId` other than ours is a token issued to another app. */
  issueToken(user: { userId: string; name: string; appId?: string; valid?: boolean }): string {
    const token = `EAAB${randomBytes(30).toString('base64url')}`;
    this.tokens.set(token, { appId: this.appId, valid: true, ...user });
    return token;
  }

  private answer(path: string, query: URLSearchParams): FakeReply {
    if (path === '/debug_token') {
      if (query.get('access_token') !== `${this.appId}|${this.appSecret}`) {
        return oauthError('Invalid OAuth access token signature.');
      }
      const token = this.tokens.get(query.get('input_token') ?? '');
      if (token === undefined) return oauthError('Invalid OAuth access token - Cannot parse access token');
      return {
        json: {
          data: {
            app_id: token.appId,
            type: 'USER',
            application: 'Doorbell',
            data_access_expires_at: 1_900_000_000,
            expires_at: 1_900_000_000,
            is_valid: token.valid,
            ...(token.valid
              ? {}
              : {
                  error: {
                    code: 190,
                    message: 'Error validating access token: Session has expired.',
                    subcode: 463,
                  },
                }),
            scopes: ['public_profile'],
            user_id: token.userId,
          },
        },
      };
    }
    if (path === '/me') {
      const raw = query.get('access_token') ?? '';
      const token = this.tokens.get(raw);
      if (token === undefined || !token.valid) return oauthError('Invalid OAuth access token data.');
      const proof = createHmac('sha256', this.appSecret).update(raw).digest('hex');
      if (query.get('appsecret_proof') !== proof) {
        return oauthError('Invalid appsecret_proof provided in the API argument', { code: 100 });
      }
      return { json: { id: token.userId, name: token.name } };
    }
    return {
      status: 404,
      json: { error: { message: 'Unknown path components', type: 'OAuthException', code: 2500 } },
    };
  }

  close(): Promise<void> {
    return this.http.close();
  }
}
