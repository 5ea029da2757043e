/**
 * What delivery asks of the registry: whom a send reaches, where a delivery goes when its
 * first route cannot reach the phone, and the removal of a token its provider declared dead.
 */
import type { Executor } from '../db/schema.js';
import type { Channel } from './registry.repository.js';
import { fallbackRoute, type Route } from './routing.js';

const chunk = <T>(items: readonly T[], size: number): T[][] => {
  const chunks: T[][] = [];
  for (let index = 0; index < items.length; index += size) chunks.push(items.slice(index, index + size));
  return chunks;
};

/** Registrations of these users on the channel, optionally of one app. */
export async function findTargets(
  db: Executor,
  userIds: readonly number[],
  channel: Channel,
  bundleid?: string,
) {
  const rows = [];
  for (const ids of chunk([...new Set(userIds)], 1000)) {
    let query = db
      .selectFrom('registrations')
      .select(['seq', 'user_id', 'provider', 'provider_token', 'apns_environment', 'bundleid', 'language'])
      .where('user_id', 'in', ids)
      .where('channel', '=', channel);
    if (bundleid !== undefined) query = query.where('bundleid', '=', bundleid);
    rows.push(...(await query.execute()));
  }
  return rows;
}

/** A delivery as made for a registration: the registration's seq and the token it was sent to. */
export interface DeliveredRegistration {
  registrationSeq: number | null;
  token: string;
}

/**
 * The fallback route of each delivery's registration, in order; undefined where there is none
 * or where the registration is gone or holds another token than the delivery was made for.
 */
export async function findFallbackRoutes(
  db: Executor,
  deliveries: readonly DeliveredRegistration[],
): Promise<Array<Route | undefined>> {
  const seqs = deliveries.flatMap((delivery) =>
    delivery.registrationSeq === null ? [] : [delivery.registrationSeq],
  );
  const registrations =
    seqs.length === 0
      ? []
      : await db
          .selectFrom('registrations')
          .select(['seq', 'push_token', 'os', 'os_token', 'push_platform', 'dev'])
          .where('seq', 'in', seqs)
          .execute();
  const bySeq = new Map(registrations.map((registration) => [registration.seq, registration]));
  return deliveries.map((delivery) => {
    const registration = delivery.registrationSeq === null ? undefined : bySeq.get(delivery.registrationSeq);
    return registration !== undefined && registration.push_token === delivery.token
      ? fallbackRoute(registration)
      : undefined;
  });
}

/**
 * Removes the registrations whose provider token the provider declared dead, unless the phone
 * has registered a new token since (the row then holds another one).
 */
export async function removeDeadRegistrations(
  db: Executor,
  dead: ReadonlyArray<{ seq: number; providerToken: string }>,
): Promise<void> {
  if (dead.length === 0) return;
  await db.transaction().execute(async (trx) => {
    for (const { seq, providerToken } of dead) {
      await trx
        .deleteFrom('registrations')
        .where('seq', '=', seq)
        .where('provider_token', '=', providerToken)
        .execute();
    }
  });
}
