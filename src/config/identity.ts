import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Env, IdentityConfig } from '../config.js';

// The third-party login part of the configuration; config.ts reads the environment.

const list = (value: string | undefined) =>
  (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');

function readConfiguredFile(name: string, path: string, problems: string[]): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    problems.push(`${name}: cannot read ${path} (${(error as Error).message})`);
    return undefined;
  }
}

/**
 * Settings that belong together are given together; keys and files are read and checked now.
 * Problems are added to `problems` (the caller names them all at once).
 */
export function identityConfig(env: Env, problems: string[]): IdentityConfig {
  const pair = (a: string, b: string, valueA: unknown, valueB: unknown) => {
    if ((valueA === undefined) !== (valueB === undefined)) problems.push(`${a} and ${b} go together`);
  };
  pair('WEIXIN_APP_ID', 'WEIXIN_APP_SECRET', env.WEIXIN_APP_ID, env.WEIXIN_APP_SECRET);
  pair('FACEBOOK_APP_ID', 'FACEBOOK_APP_SECRET', env.FACEBOOK_APP_ID, env.FACEBOOK_APP_SECRET);

  const ca =
    env.LOGIN_PROVIDER_CA_FILE === undefined
      ? undefined
      : readConfiguredFile('LOGIN_PROVIDER_CA_FILE', env.LOGIN_PROVIDER_CA_FILE, problems);

  if (env.APPLE_PRIVATE_KEY !== undefined && env.APPLE_PRIVATE_KEY_FILE !== undefined) {
    problems.push('APPLE_PRIVATE_KEY and APPLE_PRIVATE_KEY_FILE: give one of them');
  }
  // An environment variable often carries the PEM's line breaks as `\n`.
  const privateKey =
    env.APPLE_PRIVATE_KEY_FILE !== undefined
      ? readConfiguredFile('APPLE_PRIVATE_KEY_FILE', env.APPLE_PRIVATE_KEY_FILE, problems)
      : env.APPLE_PRIVATE_KEY?.replace(/\\n/g, '\n');
  if (privateKey !== undefined) {
    try {
      const key = createPrivateKey(privateKey);
      if (key.asymmetricKeyType !== 'ec') problems.push('APPLE_PRIVATE_KEY: not an EC (.p8) key');
    } catch {
      problems.push('APPLE_PRIVATE_KEY: not a PEM private key (the .p8 file Apple gave)');
    }
  }
  const signingParts = [env.APPLE_TEAM_ID, env.APPLE_KEY_ID, privateKey];
  const signingGiven = signingParts.filter((part) => part !== undefined).length;
  if (signingGiven !== 0 && signingGiven !== 3) {
    problems.push('APPLE_TEAM_ID, APPLE_KEY_ID and APPLE_PRIVATE_KEY(_FILE) go together');
  }
  const appleAudiences = list(env.APPLE_AUDIENCES);
  if (signingGiven === 3 && appleAudiences.length === 0) {
    problems.push('APPLE_TEAM_ID and its key need APPLE_AUDIENCES (the bundle ids / Services IDs)');
  }
  const googleClientIds = list(env.GOOGLE_CLIENT_IDS);

  return {
    timeoutMs: env.LOGIN_PROVIDER_TIMEOUT_MS,
    ca,
    jwksCacheSeconds: env.LOGIN_JWKS_CACHE_SECONDS,
    jwksMinRefetchSeconds: env.LOGIN_JWKS_MIN_REFETCH_SECONDS,
    leewaySeconds: env.LOGIN_JWT_LEEWAY_SECONDS,
    weixin:
      env.WEIXIN_APP_ID !== undefined && env.WEIXIN_APP_SECRET !== undefined
        ? {
            appId: env.WEIXIN_APP_ID,
            appSecret: env.WEIXIN_APP_SECRET,
            apiUrl: env.WEIXIN_API_URL.replace(/\/+$/, ''),
            codeCacheSeconds: env.WEIXIN_CODE_CACHE_SECONDS,
          }
        : undefined,
    facebook:
      env.FACEBOOK_APP_ID !== undefined && env.FACEBOOK_APP_SECRET !== undefined
        ? {
            appId: env.FACEBOOK_APP_ID,
            appSecret: env.FACEBOOK_APP_SECRET,
            graphUrl: env.FACEBOOK_GRAPH_URL.replace(/\/+$/, ''),
          }
        : undefined,
    apple:
      appleAudiences.length === 0
        ? undefined
        : {
            audiences: appleAudiences,
            jwksUrl: env.APPLE_JWKS_URL,
            tokenUrl: env.APPLE_TOKEN_URL,
            revokeUrl: env.APPLE_REVOKE_URL,
            signing:
              env.APPLE_TEAM_ID !== undefined && env.APPLE_KEY_ID !== undefined && privateKey !== undefined
                ? { teamId: env.APPLE_TEAM_ID, keyId: env.APPLE_KEY_ID, privateKey }
                : undefined,
          },
    google:
      googleClientIds.length === 0 ? undefined : { clientIds: googleClientIds, jwksUrl: env.GOOGLE_JWKS_URL },
  };
}
