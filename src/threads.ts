import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts a worker thread whose body is the module `name` beside the caller (`base`: the
 * caller's `import.meta.url`). From the bundle every entry point sits in `dist/` as
 * `<name>.js`. From the sources (tests, tsx) the thread first registers tsx, then loads
 * `<name>.ts`: Node 20 does not carry an `--import` loader into a worker.
 */
export function startThread(base: string, name: string, options: WorkerOptions = {}): Worker {
  if (!base.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, base), options);
  const tsx = tsxEsmApi(base);
  const file = new URL(`./${name}.ts`, base).href;
  const boot = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(file)}); });`;
  return new Worker(boot, { ...options, eval: true });
}

/** The ES module form of `tsx/esm/api` (a require() resolution gives its CommonJS form). */
function tsxEsmApi(base: string): string {
  const manifest = createRequire(base).resolve('tsx/package.json');
  const { exports } = JSON.parse(readFileSync(manifest, 'utf8')) as {
    exports: Record<string, { import: { default: string } }>;
  };
  const entry = exports['./esm/api']?.import.default;
  if (entry === undefined) throw new Error('tsx has no ./esm/api entry');
  return pathToFileURL(join(dirname(manifest), entry)).href;
}
