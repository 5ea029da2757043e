import type { RunStatement } from './sqlite-driver.js';

/**
 * A SQL text whose parameters are written by name where they are used (`@user_id`) and bound
 * by name from one object. The texts each dialect runs (`?` for SQLite, `$1` for PostgreSQL)
 * and the order of their values are derived once, here, from the names: no statement carries
 * stand-in values, and no caller lists parameters by position.
 */
export interface NamedStatement<Name extends string> {
  /** The name of its PostgreSQL prepared statement. */
  readonly name: string;
  readonly sqlite: string;
  readonly postgres: string;
  /** The name bound to each `?` of the SQLite text, in order (a name used twice is listed twice). */
  readonly sqliteNames: readonly Name[];
  /** The name bound to `$1`, `$2`… of the PostgreSQL text. */
  readonly postgresNames: readonly Name[];
}

/** The values of a statement's parameters, by name; other properties are ignored. */
export type StatementValues<Name extends string> = { readonly [Key in Name]: unknown };

const parameterPattern = /@([a-z_][a-z0-9_]*)/g;

/**
 * The PostgreSQL text starts with this comment naming its prepared statement, so that the
 * database's connections prepare it once each (see `preparedStatementName`) without a shared
 * table of texts.
 */
const preparedPrefix = '/* prepared ';
const preparedSuffix = ' */ ';

/**
 * Defines a statement. `names` are exactly the parameters its text uses: a name missing from
 * either is refused here, when the module loads, rather than bound wrong on some request.
 */
export function namedStatement<const Name extends string>(
  name: string,
  text: string,
  names: readonly Name[],
): NamedStatement<Name> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`statement name ${JSON.stringify(name)}`);
  const declared = new Set<string>(names);
  const used = new Set<string>();
  const sqliteNames: Name[] = [];
  const postgresNames: Name[] = [];
  const sqlite = text.replace(parameterPattern, (_, parameter: string) => {
    if (!declared.has(parameter)) throw new Error(`${name}: @${parameter} is not a declared parameter`);
    used.add(parameter);
    sqliteNames.push(parameter as Name);
    return '?';
  });
  const postgres = text.replace(parameterPattern, (_, parameter: Name) => {
    let index = postgresNames.indexOf(parameter);
    if (index === -1) index = postgresNames.push(parameter) - 1;
    return `$${index + 1}`;
  });
  const unused = names.filter((parameter) => !used.has(parameter));
  if (unused.length > 0) throw new Error(`${name}: declared but not used: ${unused.join(', ')}`);
  return {
    name,
    sqlite,
    postgres: `${preparedPrefix}${name}${preparedSuffix}${postgres}`,
    sqliteNames,
    postgresNames,
  };
}

/** The name a PostgreSQL text defined by `namedStatement` is prepared under, else `undefined`. */
export function preparedStatementName(text: string): string | undefined {
  if (!text.startsWith(preparedPrefix)) return undefined;
  const end = text.indexOf(preparedSuffix, preparedPrefix.length);
  return end === -1 ? undefined : text.slice(preparedPrefix.length, end);
}

/** The statement's values in the order its text for one dialect takes them. */
export function bindByName<Name extends string>(
  names: readonly Name[],
  values: StatementValues<Name>,
): unknown[] {
  const parameters = new Array<unknown>(names.length);
  for (let index = 0; index < names.length; index += 1) parameters[index] = values[names[index] as Name];
  return parameters;
}

/** Runs the statement at once within a unit of work of the SQLite group-commit driver. */
export function runNamedNow<Name extends string>(
  run: RunStatement,
  statement: NamedStatement<Name>,
  values: StatementValues<Name>,
) {
  return run(statement.sqlite, bindByName(statement.sqliteNames, values));
}
