import { describe, expect, it } from 'vitest';
import { bindByName, namedStatement, preparedStatementName } from './named-statement.js';

describe('namedStatement', () => {
  const statement = namedStatement(
    'find_pair',
    'select * from t where a = @a and b = @b and (c = @a or @c::json is null)',
    ['c', 'b', 'a'],
  );

  it('numbers PostgreSQL parameters by first use and repeats a name for each SQLite `?`', () => {
    expect(statement.sqlite).toBe('select * from t where a = ? and b = ? and (c = ? or ?::json is null)');
    expect(statement.sqliteNames).toEqual(['a', 'b', 'a', 'c']);
    expect(statement.postgres).toBe(
      '/* prepared find_pair */ select * from t where a = $1 and b = $2 and (c = $1 or $3::json is null)',
    );
    expect(statement.postgresNames).toEqual(['a', 'b', 'c']);
  });

  it('binds values by name, whatever else the object holds', () => {
    const values = { c: 'three', a: 1, b: null, other: 'ignored' };
    expect(bindByName(statement.sqliteNames, values)).toEqual([1, null, 1, 'three']);
    expect(bindByName(statement.postgresNames, values)).toEqual([1, null, 'three']);
  });

  it('names the prepared statement of its PostgreSQL text only', () => {
    expect(preparedStatementName(statement.postgres)).toBe('find_pair');
    expect(preparedStatementName(statement.sqlite)).toBeUndefined();
    expect(preparedStatementName('select 1')).toBeUndefined();
  });

  it('refuses a parameter used but not declared, or declared but not used', () => {
    expect(() => namedStatement('s', 'select @a, @b', ['a'])).toThrow('@b is not a declared parameter');
    expect(() => namedStatement('s', 'select @a', ['a', 'b'])).toThrow('declared but not used: b');
  });
});
