import type { Apps } from '../admin/apps.js';
import { AppError } from '../errors.js';
import type { DeliveryService } from './delivery.service.js';

/**
 * What an app in inbox mode captured instead of sending. An app that does not exist has no
 * inbox (404), which an empty list would hide: a mistyped bundle id looks like "nothing sent".
 */
export function createInboxService(deps: {
  apps: Pick<Apps, 'exists'>;
  delivery: Pick<DeliveryService, 'inbox'>;
}) {
  return {
    async list(bundleid: string, page: { before?: number | undefined; limit: number }) {
      if (!(await deps.apps.exists(bundleid))) throw new AppError('NOT_FOUND');
      return deps.delivery.inbox(bundleid, page);
    },
  };
}

export type InboxService = ReturnType<typeof createInboxService>;
