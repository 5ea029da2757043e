import type { FastifyInstance } from 'fastify';

/**
 * What every request schema refuses whatever its route says: text holding NUL (PostgreSQL
 * cannot store it, SQLite would cut or keep it) and integers outside 64 bits (PostgreSQL's
 * bigint; a JSON number there is not even exact). Added to the body, query and path schemas
 * of every route as it is declared, so that no route can forget it and both databases answer
 * the same 400.
 */
const withoutNul = { type: 'string', pattern: '\\u0000' };
const int64 = { minimum: -(2 ** 63), exclusiveMaximum: 2 ** 63 };

type Schema = Record<string | symbol, unknown>;

const isSchema = (value: unknown): value is Schema =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const hasType = (schema: Schema, type: string) =>
  schema.type === type || (Array.isArray(schema.type) && schema.type.includes(type));

/** Keywords whose value is one subschema, and those whose value is a list or map of them. */
const single = ['additionalProperties', 'items', 'propertyNames', 'contains', 'if', 'then', 'else'];
const lists = ['anyOf', 'oneOf', 'allOf', 'prefixItems'];
const maps = ['properties', 'patternProperties'];

/** A copy of `schema` with the bounds added to each text and integer in it. */
export function boundInput(schema: unknown): unknown {
  if (!isSchema(schema)) return schema;
  const bounded: Schema = { ...schema };
  for (const key of single) if (isSchema(bounded[key])) bounded[key] = boundInput(bounded[key]);
  for (const key of lists) {
    const value = bounded[key];
    if (Array.isArray(value)) bounded[key] = value.map(boundInput);
  }
  for (const key of maps) {
    const value = bounded[key];
    if (isSchema(value))
      bounded[key] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, boundInput(sub)]));
  }
  // A map's keys (TypeBox's Record) are text too, checked by pattern only.
  if (isSchema(bounded.patternProperties) && bounded.propertyNames === undefined)
    bounded.propertyNames = { not: withoutNul };
  if (hasType(bounded, 'string')) {
    // `not` is left alone where a route has one of its own: the NUL check joins it in allOf.
    return bounded.not === undefined
      ? { ...bounded, not: withoutNul }
      : { allOf: [bounded, { not: withoutNul }] };
  }
  if (hasType(bounded, 'integer')) {
    bounded.minimum = Math.max(Number(bounded.minimum ?? int64.minimum), int64.minimum);
    bounded.exclusiveMaximum = Math.min(
      Number(bounded.exclusiveMaximum ?? int64.exclusiveMaximum),
      int64.exclusiveMaximum,
    );
  }
  return bounded;
}

/** Applies boundInput to the request schemas of every route declared from now on. */
export function installInputBounds(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    const schema = route.schema as Schema | undefined;
    if (schema === undefined) return;
    route.schema = {
      ...schema,
      ...(schema.body === undefined ? {} : { body: boundInput(schema.body) }),
      ...(schema.querystring === undefined ? {} : { querystring: boundInput(schema.querystring) }),
      ...(schema.params === undefined ? {} : { params: boundInput(schema.params) }),
    };
  });
}
