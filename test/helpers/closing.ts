import { afterEach } from 'vitest';

interface Closable {
  close(): Promise<void>;
}

/**
 * For a provider's adapter tests (call it in the `describe`): what a test starts — adapters and
 * fake servers — is closed after it, adapters first.
 */
export function closedAfterEach() {
  const adapters: Closable[] = [];
  const fakes: Closable[] = [];
  afterEach(async () => {
    await Promise.all(adapters.splice(0).map((adapter) => adapter.close()));
    await Promise.all(fakes.splice(0).map((fake) => fake.close()));
  });
  return {
    adapter<T extends Closable>(adapter: T): T {
      adapters.push(adapter);
      return adapter;
    },
    fake<T extends Closable>(fake: T): T {
      fakes.push(fake);
      return fake;
    },
    /** Closes a fake within the test (it is not closed again after it). */
    async closeNow(fake: Closable): Promise<void> {
      await fake.close();
      fakes.splice(fakes.indexOf(fake), 1);
    },
  };
}
