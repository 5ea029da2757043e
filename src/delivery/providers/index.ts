import { apnsProvider } from './apns/index.js';
import type { ProviderCatalogue } from './catalogue.js';
import { fcmProvider } from './fcm/index.js';
import { honorProvider } from './honor/index.js';
import { huaweiProvider } from './huawei/index.js';
import { oppoProvider } from './oppo/index.js';
import { vivoProvider } from './vivo/index.js';
import { xiaomiProvider } from './xiaomi/index.js';

/** The providers Bellhop delivers through, by the id the routing rule gives. */
export const providerCatalogue: ProviderCatalogue = {
  apns: apnsProvider,
  fcm: fcmProvider,
  honor: honorProvider,
  huawei: huaweiProvider,
  oppo: oppoProvider,
  vivo: vivoProvider,
  xiaomi: xiaomiProvider,
};
