import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AccountUsageError } from '../accounts/account-error.js';
import { NotFoundError, RefusedError, UsageError } from '../errors.js';
import { isMessageKey } from './i18n/messages.js';
import { Problem, type FieldError } from './problem.js';
import { apiDetail, refusalStatus, refusalText } from './refusals.js';
import { renderPage } from './render.js';
import { shared } from './shared-plugin.js';

/**
 * One mapping from errors to answers: problem+json (RFC 9457) under /api, an error page elsewhere.
 * Domain errors map as the CLI's exit codes do: bad input 400, unknown 404, refused (state, duplicate) 409;
 * their words come from refusals.ts (the catalogue's, never the CLI's hints).
 */
export const errorHandling = shared(async (app: FastifyInstance) => {
  app.setErrorHandler(async (err: FastifyError, request, reply) => {
    const problem = toProblem(err);
    if (problem.status >= 500) request.log.error({ err, url: request.url }, 'portal request failed');
    else request.log.debug({ status: problem.status, detail: problem.detail, url: request.url }, 'request refused');
    return answer(request, reply, problem, err);
  });
  app.setNotFoundHandler(async (request, reply) => answer(request, reply, new Problem(404, `Nothing at ${request.method} ${request.url.split('?')[0]}.`)));
});

function answer(request: FastifyRequest, reply: FastifyReply, problem: Problem, err?: FastifyError): FastifyReply {
  if (problem.status === 401) reply.header('www-authenticate', 'Bearer');
  if (request.url.startsWith('/api/')) {
    return reply.code(problem.status).type('application/problem+json; charset=utf-8').send(JSON.stringify(problem.toJSON(request.url.split('?')[0])));
  }
  if (problem.status === 401) return reply.redirect(`/login?next=${encodeURIComponent(request.url)}`, 303);
  const code = err && 'code' in err ? String(err.code) : '';
  const key = code.startsWith('FST_CSRF') ? 'error.csrf' : `error.${problem.status}`;
  const message = refusalText(request.language, err) ?? request.t(isMessageKey(key) ? key : 'error.500');
  return renderPage(request, reply, 'error.eta', { message, status: problem.status }, { title: 'error.title', status: problem.status });
}

export function toProblem(err: unknown): Problem {
  if (err instanceof Problem) return err;
  if (err instanceof UsageError) {
    const field = err instanceof AccountUsageError ? err.field : undefined;
    const detail = apiDetail(err);
    return new Problem(refusalStatus(err, 400), detail, field ? [{ pointer: `#/${field}`, field, detail }] : undefined, err.code);
  }
  if (err instanceof NotFoundError) return new Problem(404, apiDetail(err), undefined, err.code);
  if (err instanceof RefusedError) return new Problem(409, apiDetail(err), undefined, err.code);
  const e = err as FastifyError;
  if (e.validation) {
    const errors = e.validation.map((v) => fieldError(v, e.validationContext ?? 'body'));
    return new Problem(400, `Bad ${e.validationContext ?? 'request'}: ${errors.map((x) => `${x.field} ${x.detail}`).join('; ')}.`, errors);
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) return new Problem(e.statusCode, e.message);
  return new Problem(500, 'Something went wrong on our side; it has been logged.');
}

interface AjvIssue {
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
}

function fieldError(v: AjvIssue, context: string): FieldError {
  const extra = (v.params?.missingProperty ?? v.params?.additionalProperty) as string | undefined;
  const path = `${v.instancePath ?? ''}${extra !== undefined ? `/${extra}` : ''}`;
  const field = path.split('/').filter(Boolean).join('.') || context;
  const detail = v.params?.additionalProperty !== undefined ? 'is not a known field' : v.params?.missingProperty !== undefined ? 'is required' : (v.message ?? 'is not valid');
  return { pointer: `#${path}`, field, detail };
}
