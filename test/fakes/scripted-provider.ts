import { Type } from 'typebox';
import type { PushMessage, PushResult } from '../../src/delivery/providers/adapter.js';
import type { ProviderEntry } from '../../src/delivery/providers/catalogue.js';

/**
 * A provider whose adapter records what it is given and answers per token from a script:
 * for testing the delivery pipeline (fan-out, retries, dead tokens) apart from any wire
 * protocol. The real providers are tested against their protocol fakes.
 */
export function scriptedProvider(id: string) {
  const sent: PushMessage[] = [];
  const scripts = new Map<string, PushResult[]>();
  let adaptersCreated = 0;
  const module: ProviderEntry = {
    id,
    schema: Type.Object({ secret: Type.String() }),
    settings: {
      validate: (settings) =>
        typeof (settings as { secret?: unknown }).secret === 'string' ? undefined : 'secret is required',
      describe: () => ({ kind: 'scripted' }),
    },
    createAdapter: () => {
      adaptersCreated += 1;
      return {
        provider: id,
        send: async (messages) =>
          messages.map((message) => {
            sent.push(message);
            return scripts.get(message.token)?.shift() ?? { ok: true, providerMessageId: undefined };
          }),
        close: async () => {},
      };
    },
    buildRequest: (message) => ({
      method: 'POST',
      url: `https://${id}.invalid/${message.token}`,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title: message.title, body: message.body, data: message.data }),
    }),
  };
  return {
    module,
    sent,
    adaptersCreated: () => adaptersCreated,
    /** The next answers for a token, in order; afterwards it succeeds. */
    script(token: string, results: PushResult[]) {
      scripts.set(token, [...(scripts.get(token) ?? []), ...results]);
    },
  };
}
