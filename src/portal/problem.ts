import { STATUS_CODES } from 'node:http';

/** One bad field of a request: where it is (JSON pointer), its name, and what is wrong. */
export interface FieldError {
  pointer: string;
  field: string;
  detail: string;
}

/**
 * An HTTP problem (RFC 9457): thrown by handlers and by `authorize`, answered as
 * `application/problem+json` under /api and as an error page elsewhere. A domain refusal's code
 * (`route-overlap`, …) goes with it as the member `code`, for clients to act on rather than parse `detail`.
 */
export class Problem extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly errors?: FieldError[],
    readonly code?: string,
  ) {
    super(detail);
  }

  get title(): string {
    return STATUS_CODES[this.status] ?? 'Error';
  }

  toJSON(instance?: string): Record<string, unknown> {
    return { type: 'about:blank', title: this.title, status: this.status, detail: this.detail, ...(instance ? { instance } : {}), ...(this.code ? { code: this.code } : {}), ...(this.errors ? { errors: this.errors } : {}) };
  }
}

export const notFound = (what = 'Not found.') => new Problem(404, what);
export const forbidden = (what = 'Your role may not do this.') => new Problem(403, what);

/** The JSON Schema of a problem body, registered once as `Problem` for routes' responses and OpenAPI. */
export const problemSchema = {
  $id: 'Problem',
  type: 'object',
  description: 'RFC 9457 problem details',
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    code: { type: 'string', description: "a refused action's reason as a stable word (e.g. agreement-state, route-overlap); detail says it in English" },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        properties: { pointer: { type: 'string' }, field: { type: 'string' }, detail: { type: 'string' } },
        required: ['pointer', 'field', 'detail'],
      },
    },
  },
  required: ['type', 'title', 'status'],
} as const;

/** Response schemas of the problems a route can answer, for its `schema.response`. */
export function problemResponses(...statuses: number[]): Record<number, { $ref: string; description: string }> {
  return Object.fromEntries(statuses.map((s) => [s, { $ref: 'Problem#', description: STATUS_CODES[s] ?? 'Error' }]));
}
