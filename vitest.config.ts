import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Test files share a worker's module cache: the app's modules (Fastify, Kysely, the
    // providers) are imported once per worker, not once per file, which was a third of the
    // suite's time. Files keep no state in modules; each builds its own app and databases.
    isolate: false,
  },
});
