/**
 * Recognises a unique-constraint violation in either dialect and names what it was on
 * (the constraint or column text the driver reports), so that services can turn a lost
 * race into the same 409 that the pre-check gives.
 */
export function uniqueViolationTarget(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, constraint, message } = error as { code?: unknown; constraint?: unknown; message?: unknown };
  if (code === '23505') return typeof constraint === 'string' ? constraint : String(message);
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') return String(message);
  return undefined;
}

/**
 * A foreign-key violation: the row referred to (a session, a user) was deleted by a
 * concurrent request between the check and the write.
 */
export function isForeignKeyViolation(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code } = error as { code?: unknown };
  return code === '23503' || code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
}
