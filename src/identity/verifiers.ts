import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { IdentityConfig } from '../config.js';
import { HttpClient } from '../net/http-client.js';
import type { IdentityVerifiers } from './identity.service.js';
import { JwksCache } from './jwks.js';
import { createAppleVerifier } from './providers/apple.js';
import { createFacebookVerifier } from './providers/facebook.js';
import { createGoogleVerifier } from './providers/google.js';
import { createWeixinVerifier } from './providers/weixin.js';

/** The verifier of every configured provider, sharing one HTTP client (timeout, extra CA). */
export function createIdentityVerifiers(
  config: IdentityConfig,
  deps: { clock: Clock; log: Logger },
): IdentityVerifiers & { close(): Promise<void> } {
  const { clock, log } = deps;
  const client = new HttpClient({ ca: config.ca, maxSockets: 16, timeoutMs: config.timeoutMs });
  const http = { get: client.get, post: client.post };
  const jwks = (provider: 'apple' | 'google', url: string) =>
    new JwksCache({
      provider,
      url,
      http,
      clock,
      cacheMs: config.jwksCacheSeconds * 1000,
      minRefetchMs: config.jwksMinRefetchSeconds * 1000,
    });
  const leewaySeconds = config.leewaySeconds;
  return {
    weixin: config.weixin && createWeixinVerifier({ config: config.weixin, http, clock }),
    facebook: config.facebook && createFacebookVerifier({ config: config.facebook, http }),
    apple:
      config.apple &&
      createAppleVerifier({
        config: config.apple,
        http,
        clock,
        jwks: jwks('apple', config.apple.jwksUrl),
        leewaySeconds,
        log,
      }),
    google:
      config.google &&
      createGoogleVerifier({
        config: config.google,
        clock,
        jwks: jwks('google', config.google.jwksUrl),
        leewaySeconds,
      }),
    close: () => client.close(),
  };
}
