import { apnsProvider } from './apns/index.js';
import type { ProviderCatalogue } from './catalogue.js';
import { fcmProvider } from './fcm/index.js';
import { oppoProvider } from './oppo/index.js';

/** The providers Bellhop delivers through, by the id the routing rule gives. */
export const providerCatalogue: ProviderCatalogue = {
  apns: apnsProvider,
  fcm: fcmProvider,
  oppo: oppoProvider,
};
