import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The planned dependency direction (docs: design, "Layout and dependency direction"), checked
 * on every relative import of every source file under src/ (tests excepted): `main → app →
 * features → db/config`; features use `http/` for its hooks and schemas, and `http/` knows no
 * feature; only the listed feature-to-feature edges exist; no folder-level circle.
 */

const srcRoot = fileURLToPath(new URL('../src', import.meta.url));

/** The shared modules at the bottom: no feature, no framework wiring. */
const infrastructure = [
  'config',
  'errors',
  'clock',
  'logger',
  'metrics',
  'limiter',
  'net',
  'threads',
  'db',
  'redis',
  'crypto',
  'http',
] as const;
/** What a feature may use besides the features named in its own row. */
const forFeatures = infrastructure;
const features = [
  'accounts',
  'identity',
  'registry',
  'admin',
  'channel',
  'delivery',
  'delivery/providers',
] as const;

/**
 * Module → the modules it may import. A module is a folder under src/ (`delivery/providers`
 * counts apart from the rest of delivery: a provider knows only the adapter contract, the
 * shared plumbing and its own wire protocol) or a file at the top of src/.
 */
const allowedImports: Readonly<Record<string, readonly string[]>> = {
  // Infrastructure.
  errors: [],
  clock: [],
  limiter: [],
  net: [],
  threads: [],
  metrics: [],
  config: [],
  logger: ['config'],
  db: ['config', 'threads'],
  redis: [],
  crypto: [],
  http: ['config', 'errors', 'metrics'],
  // Features.
  registry: [...forFeatures],
  accounts: [...forFeatures, 'registry'],
  identity: [...forFeatures, 'accounts'],
  admin: [...forFeatures],
  channel: [...forFeatures],
  delivery: [...forFeatures, 'delivery/providers', 'registry', 'admin', 'channel'],
  // The push socket is the channel provider's wire protocol.
  'delivery/providers': ['errors', 'clock', 'limiter', 'net', 'channel'],
  // Wiring: these see everything below them.
  services: [...infrastructure, ...features, 'scale-out'],
  'scale-out': [...infrastructure, ...features],
  app: [...infrastructure, ...features, 'services'],
  main: [...infrastructure, ...features, 'services', 'scale-out', 'app'],
  cli: [...infrastructure, ...features],
};

/**
 * Imports against the direction that other changes in flight remove; each entry must still
 * occur (a stale one fails the test), and none may be added to hide a new violation.
 */
const pendingViolations: ReadonlyArray<{ from: string; to: string }> = [];

interface Import {
  /** Both relative to src/, with forward slashes. */
  from: string;
  to: string;
}

function moduleOf(file: string): string {
  const parts = file.split('/');
  if (parts.length === 1) return (parts[0] ?? '').replace(/\.ts$/, '');
  if (parts[0] === 'delivery' && parts[1] === 'providers') return 'delivery/providers';
  return parts[0] ?? '';
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

const fromSrc = (path: string) => relative(srcRoot, path).split(sep).join('/');

/** Every relative import of src/: static, type-only, re-exports and dynamic `import()`. */
function importsOfSrc(): Import[] {
  return sourceFiles(srcRoot).flatMap((path) =>
    ts
      .preProcessFile(readFileSync(path, 'utf8'), true, true)
      .importedFiles.filter(({ fileName }) => fileName.startsWith('.'))
      .map(({ fileName }) => ({
        from: fromSrc(path),
        to: fromSrc(resolve(dirname(path), fileName.replace(/\.js$/, '.ts'))),
      })),
  );
}

/** Imports that cross modules against `allowed`; a module missing from `allowed` is reported too. */
function violationsOf(imports: readonly Import[], allowed: Readonly<Record<string, readonly string[]>>) {
  return imports
    .filter(({ from, to }) => {
      const source = moduleOf(from);
      const target = moduleOf(to);
      return source !== target && !(allowed[source] ?? []).includes(target);
    })
    .map(({ from, to }) => `${from} → ${to} (${moduleOf(from)} → ${moduleOf(to)})`);
}

/** Every circle among modules, each as a path `a → b → … → a`. */
function circlesOf(edges: ReadonlyMap<string, ReadonlySet<string>>): string[] {
  const circles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (node: string) => {
    state.set(node, 'open');
    path.push(node);
    for (const next of edges.get(node) ?? []) {
      if (state.get(next) === 'open') circles.push([...path.slice(path.indexOf(next)), next].join(' → '));
      else if (state.get(next) === undefined) visit(next);
    }
    path.pop();
    state.set(node, 'done');
  };
  for (const node of edges.keys()) if (state.get(node) === undefined) visit(node);
  return circles;
}

function moduleGraph(imports: readonly Import[]): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const { from, to } of imports) {
    const source = moduleOf(from);
    const target = moduleOf(to);
    if (source === target) continue;
    graph.set(source, (graph.get(source) ?? new Set()).add(target));
  }
  return graph;
}

const tableGraph = () =>
  new Map(Object.entries(allowedImports).map(([module, targets]) => [module, new Set(targets)]));

describe('the checks themselves', () => {
  it('report an import the table does not allow, and a module it does not know', () => {
    const imports = [
      { from: 'registry/registry.routes.ts', to: 'accounts/accounts.service.ts' },
      { from: 'accounts/accounts.service.ts', to: 'registry/registry.repository.ts' },
      { from: 'gadgets/thing.ts', to: 'db/schema.ts' },
    ];
    expect(violationsOf(imports, allowedImports)).toEqual([
      'registry/registry.routes.ts → accounts/accounts.service.ts (registry → accounts)',
      'gadgets/thing.ts → db/schema.ts (gadgets → db)',
    ]);
  });

  it('find a circle through several modules', () => {
    const graph = moduleGraph([
      { from: 'a/x.ts', to: 'b/y.ts' },
      { from: 'b/y.ts', to: 'c.ts' },
      { from: 'c.ts', to: 'a/z.ts' },
      { from: 'c.ts', to: 'd/w.ts' },
    ]);
    expect(circlesOf(graph)).toEqual(['a → b → c → a']);
  });

  it('map a file to its module', () => {
    expect(moduleOf('config.ts')).toBe('config');
    expect(moduleOf('delivery/queue/sql-queue.ts')).toBe('delivery');
    expect(moduleOf('delivery/providers/fcm/fcm.adapter.ts')).toBe('delivery/providers');
  });
});

describe('imports under src/', () => {
  const imports = importsOfSrc();
  const isPending = ({ from, to }: Import) =>
    pendingViolations.some((pending) => pending.from === from && pending.to === to);

  it('are read, dynamic ones included', () => {
    expect(imports).toContainEqual({ from: 'main.ts', to: 'scale-out.ts' });
    expect(imports.length).toBeGreaterThan(300);
  });

  it('follow the planned direction', () => {
    expect(
      violationsOf(
        imports.filter((found) => !isPending(found)),
        allowedImports,
      ),
    ).toEqual([]);
  });

  it('still contain every pending violation (a fixed one is taken off the list)', () => {
    for (const pending of pendingViolations) expect(imports).toContainEqual(pending);
  });

  it('form no circle among modules', () => {
    expect(circlesOf(moduleGraph(imports))).toEqual([]);
  });

  it('name only modules that exist', () => {
    const modules = new Set(imports.flatMap(({ from, to }) => [moduleOf(from), moduleOf(to)]));
    expect(Object.keys(allowedImports).filter((module) => !modules.has(module))).toEqual([]);
  });

  it('are checked against a table that itself allows no circle', () => {
    expect(circlesOf(tableGraph())).toEqual([]);
  });
});
