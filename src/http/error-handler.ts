import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type ErrorCode, errorBody } from '../errors.js';

interface ValidationIssue {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
}

/** The manual's vocabulary for a failed schema check: `undefined X`, `X length error`, … */
function validationError(issues: readonly ValidationIssue[], context: string | undefined): AppError {
  const issue = issues.find((entry) => entry.keyword !== 'anyOf' && entry.keyword !== 'oneOf') ?? issues[0];
  if (issue === undefined) return new AppError('MALFORMED_BODY');
  if (issue.keyword === 'required') {
    return new AppError('FIELD_MISSING', { field: String(issue.params.missingProperty) });
  }
  const field = issue.instancePath.split('/').filter(Boolean).at(-1);
  if (field === undefined) {
    return context === 'body'
      ? new AppError('MALFORMED_BODY')
      : new AppError('FIELD_INVALID', { field: context ?? 'paramer' });
  }
  const codes: Record<string, ErrorCode> = {
    minLength: 'FIELD_LENGTH',
    maxLength: 'FIELD_LENGTH',
    type: 'FIELD_FORMAT',
  };
  return new AppError(codes[issue.keyword] ?? 'FIELD_INVALID', { field });
}

const frameworkCodes: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
};

function toAppError(error: FastifyError): AppError {
  if (error instanceof AppError) return error;
  if (error.validation)
    return validationError(error.validation as ValidationIssue[], error.validationContext);
  const mapped = frameworkCodes[error.code];
  if (mapped !== undefined) return new AppError(mapped);
  const status = error.statusCode ?? 500;
  if (status === 413) return new AppError('BODY_TOO_LARGE');
  if (status === 415) return new AppError('UNSUPPORTED_MEDIA_TYPE');
  if (status === 429) return new AppError('RATE_LIMITED');
  if (status >= 400 && status < 500) return new AppError('MALFORMED_BODY', { cause: error });
  return new AppError('INTERNAL', { cause: error });
}

/** The catalogue code each error answer carried, for the metrics of the answer. */
const answeredCodes = new WeakMap<FastifyRequest, ErrorCode>();

export function errorCodeOf(request: FastifyRequest): ErrorCode | undefined {
  return answeredCodes.get(request);
}

export function sendError(reply: FastifyReply, error: AppError): FastifyReply {
  answeredCodes.set(reply.request, error.code);
  if (error.retryAfterSeconds !== undefined)
    void reply.header('retry-after', String(error.retryAfterSeconds));
  return reply.code(error.status).send(errorBody(error.code, undefined, error.message));
}

/**
 * One mapping from every failure to `{message, code}` with the right status; 5xx details stay
 * in the log. A login provider that is not configured is the deployment's choice, not a
 * failure: said once per provider at warn, then treated as a rejected request.
 */
export function installErrorHandlers(app: FastifyInstance): void {
  const notConfiguredSaid = new Set<string>();
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const appError = toAppError(error);
    const rejected = { code: appError.code, status: appError.status };
    if (appError.code === 'PROVIDER_NOT_CONFIGURED' && !notConfiguredSaid.has(appError.message)) {
      notConfiguredSaid.add(appError.message);
      request.log.warn(rejected, `${appError.message}: such logins are answered ${appError.status}`);
    } else if (appError.status >= 500 && appError.code !== 'PROVIDER_NOT_CONFIGURED')
      request.log.error({ err: error }, 'request failed');
    else request.log.info(rejected, 'request rejected');
    return sendError(reply, appError);
  });
  app.setNotFoundHandler((_request, reply) => sendError(reply, new AppError('ROUTE_NOT_FOUND')));
  // An unknown route is a 404 whatever its body: answer before the body is read, so that a
  // malformed, oversized or mistyped body does not turn it into a 400, 413 or 415.
  app.addHook('onRequest', (request, reply, done) => {
    if (request.is404) sendError(reply, new AppError('ROUTE_NOT_FOUND'));
    else done();
  });
}
