import { X509Certificate } from 'node:crypto';

/** A URL an operator may point a provider at, or one problem worded for them. */
export function checkUrl(value: string, field: string, protocols: readonly string[]): URL | string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `${field} is not a valid URL`;
  }
  if (!protocols.includes(url.protocol)) {
    return `${field} must be ${protocols.map((p) => `an ${p.slice(0, -1)}`).join(' or ')} URL`;
  }
  if (url.username !== '' || url.password !== '') return `${field} must not carry a user name or password`;
  if (url.hash !== '') return `${field} must not have a #fragment`;
  return url;
}

/** A base URL without query or trailing slash, or one problem. */
export function checkBaseUrl(value: string, field: string): string | { error: string } {
  const url = checkUrl(value, field, ['https:', 'http:']);
  if (typeof url === 'string') return { error: url };
  if (url.search !== '') return { error: `${field} must not have a ?query` };
  return url.href.replace(/\/+$/, '');
}

/** Checks that a private CA is one or more parseable PEM certificates. */
export function checkCa(pem: string, field = 'ca'): string | undefined {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  if (blocks === null) return `${field} must hold PEM certificate(s) (-----BEGIN CERTIFICATE-----…)`;
  for (const [index, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch {
      return `${field}: certificate ${index + 1} cannot be parsed`;
    }
  }
  return undefined;
}
