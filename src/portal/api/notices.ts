import type { FastifyInstance } from 'fastify';
import { noticeUrl } from '../../notices/notice-texts.js';
import { noticesOf } from '../../notices/outbox.js';
import { personOf } from '../authorize.js';
import { problemResponses } from '../problem.js';

const noticeSchema = {
  $id: 'Notice',
  type: 'object',
  properties: {
    id: { type: 'string' },
    event: { type: 'string', description: 'e.g. agreement.requested, agreement.approved, declaration.rejected (SPEC §12)' },
    subject: { type: 'string' },
    text: { type: 'string', description: "the notice's text; left out for invitations and resets, whose one-time link is not shown again" },
    link: { type: 'string', description: "the notice's page in the portal, as the mail links to it (absolute URL); left out for invitations and resets" },
    state: { enum: ['pending', 'sending', 'committing', 'sent', 'failed', 'uncertain'] },
    createdAt: { type: 'string' },
    sentAt: { type: 'string', description: 'when the mail server accepted it' },
  },
  required: ['id', 'event', 'subject', 'state', 'createdAt'],
} as const;

/** GET /api/v1/notices: the notices (advis) addressed to the caller (SPEC §11, §12). */
export async function noticesApi(app: FastifyInstance): Promise<void> {
  app.addSchema(noticeSchema);
  app.get<{ Querystring: { limit: number; after?: string } }>(
    '/notices',
    {
      schema: {
        summary: "The caller's own notices, newest first",
        tags: ['notices'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 },
            after: { type: 'string', pattern: '^[0-9]{1,18}$', description: 'the id of the last notice of the previous page' },
          },
        },
        response: { 200: { type: 'array', items: { $ref: 'Notice#' } }, ...problemResponses(400, 401) },
      },
    },
    async (request) => {
      const p = personOf(request);
      const rows = await noticesOf(app.portal.pool, p.id, { limit: request.query.limit, after: request.query.after });
      return rows.map((n) => ({
        id: n.id,
        event: n.event,
        subject: n.subject,
        // Invitations and resets carry a one-time link: neither it nor the text is shown again.
        ...(n.event.startsWith('account.') ? {} : { text: n.body, link: noticeUrl(n.link, app.portal.config.portalPublicUrl) }),
        state: n.state,
        createdAt: n.createdAt.toISOString(),
        ...(n.sentAt ? { sentAt: n.sentAt.toISOString() } : {}),
      }));
    },
  );
}
