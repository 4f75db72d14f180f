import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AccountRefusedError, AccountUsageError } from '../../accounts/account-error.js';
import { EMAIL_MAX_LENGTH, NAME_MAX_LENGTH } from '../../accounts/account-limits.js';
import { findUserById } from '../../accounts/find-user.js';
import { inviteUser } from '../../accounts/invite-user.js';
import { listUsers } from '../../accounts/list-users.js';
import { resetUser, setUserDisabled } from '../../accounts/manage-user.js';
import type { Person } from '../../accounts/person.js';
import { isRole, type Role } from '../../accounts/roles.js';
import { authorize, personOf } from '../authorize.js';
import { requireLogin } from '../authenticate.js';
import { scopeOf } from '../can.js';
import { Problem } from '../problem.js';
import { renderPage } from '../render.js';
import { badFields, idParam, pageSchema } from './page-kit.js';

interface InviteForm {
  email: string;
  name: string;
  role: string;
  vendor: string;
  authority: string;
}

const inviteBody = {
  type: 'object',
  properties: {
    email: { type: 'string', maxLength: EMAIL_MAX_LENGTH },
    name: { type: 'string', maxLength: NAME_MAX_LENGTH },
    role: { type: 'string', maxLength: 40 },
    vendor: { type: 'string', maxLength: 12 },
    authority: { type: 'string', maxLength: 12 },
    _csrf: { type: 'string' },
  },
  required: ['email', 'role'],
} as const;

const LABELS = { email: 'users.email', name: 'users.name', role: 'users.role', vendor: 'users.invite.vendor', authority: 'users.invite.authority' } as const;
const idParams = { type: 'object', properties: { id: idParam }, required: ['id'] } as const;
const usersQuery = { type: 'object', properties: { disabled: { type: 'string', maxLength: EMAIL_MAX_LENGTH }, enabled: { type: 'string', maxLength: EMAIL_MAX_LENGTH } } } as const;
const plainBody = { type: 'object', properties: { _csrf: { type: 'string' } } } as const;

/** The roles a person may give in an invitation: an operator any, an admin those of its own organisation. */
function invitableRoles(p: Person): Role[] {
  if (p.role === 'operator') return ['operator', 'vendor-admin', 'vendor-user', 'authority-admin', 'authority-user'];
  return p.vendor ? ['vendor-admin', 'vendor-user'] : ['authority-admin', 'authority-user'];
}

/** Brugere: admins invite, disable, enable and send new links to the people of their own vendor/authority; operators everyone's. */
export async function usersPages(app: FastifyInstance): Promise<void> {
  const { pool, config, clock } = app.portal;

  async function show(
    request: FastifyRequest,
    reply: FastifyReply,
    extra: { notice?: string; link?: string; error?: string; form?: Partial<InviteForm>; changed?: { email: string; disabled: boolean } },
    status = 200,
  ) {
    const p = personOf(request);
    const scope = scopeOf(p);
    const users = await listUsers(pool, 'all' in scope ? {} : scope);
    const operatorChoices = p.role === 'operator' ? await organisations() : {};
    const form = { email: '', name: '', role: invitableRoles(p)[0], vendor: '', authority: '', ...extra.form };
    const { changed, ...rest } = extra;
    // After a change the address names the person: said only of one listed here in that state (else
    // any text put in a link would read as the portal's own notice).
    const person = changed && users.find((u) => u.email === changed.email && u.disabled === changed.disabled);
    const notice = person ? request.t(person.disabled ? 'users.disabled' : 'users.enabled', { email: person.email }) : rest.notice;
    const limits = { email: EMAIL_MAX_LENGTH, name: NAME_MAX_LENGTH };
    return renderPage(request, reply, 'users.eta', { users, roles: invitableRoles(p), ...operatorChoices, ...rest, notice, form, limits }, { title: 'users.title', status });
  }

  async function organisations() {
    const [vendors, authorities] = await Promise.all([
      pool.query<{ id: number; name: string }>('SELECT id, name FROM vendors ORDER BY name'),
      pool.query<{ id: number; label: string }>(
        `SELECT id, CASE WHEN kommunekode IS NOT NULL THEN kommunekode || ' ' || name ELSE name || ' (CVR ' || cvr || ')' END AS label FROM authorities ORDER BY kommunekode NULLS LAST, name`,
      ),
    ]);
    return { vendors: vendors.rows, authorities: authorities.rows };
  }

  app.get<{ Querystring: { disabled?: string; enabled?: string } }>('/users', { preHandler: requireLogin, ...pageSchema({ querystring: usersQuery }) }, async (request, reply) => {
    authorize(personOf(request), 'user.manage');
    // A notice after a change names the person; anything else in the address is left out.
    const { disabled, enabled } = badFields(request).length > 0 ? {} : request.query;
    const changed = disabled ? { email: disabled, disabled: true } : enabled ? { email: enabled, disabled: false } : undefined;
    return show(request, reply, { changed });
  });

  app.post<{ Body: InviteForm }>('/users/invite', { preHandler: requireLogin, ...pageSchema({ body: inviteBody }) }, async (request, reply) => {
    const p = personOf(request);
    authorize(p, 'user.manage');
    const form = typedForm(request.body);
    const problems = badFields(request, LABELS);
    if (problems.length > 0) return show(request, reply, { error: problems.join(' '), form }, 400);
    try {
      if (!isRole(form.role) || !invitableRoles(p).includes(form.role)) throw new AccountUsageError('organisation-not-allowed', `Role '${form.role}' cannot be given here.`, 'role');
      const organisation =
        p.role === 'operator'
          ? { vendorId: form.role.startsWith('vendor-') ? idOf(form.vendor) : undefined, authorityId: form.role.startsWith('authority-') ? idOf(form.authority) : undefined }
          : { vendorId: p.vendor?.id, authorityId: p.authority?.id };
      const invitation = await inviteUser(pool, { email: form.email, name: form.name, role: form.role, ...organisation }, p.email, { publicUrl: config.portalPublicUrl, clock });
      return show(request, reply, { notice: request.t('users.invited', { email: invitation.email }), link: invitation.link.url });
    } catch (err) {
      if (err instanceof AccountUsageError || err instanceof AccountRefusedError) {
        return show(request, reply, { error: request.t(`account.${err.code}`), form }, err instanceof AccountUsageError ? 400 : 409);
      }
      throw err;
    }
  });

  /** The person a /users/:id/… form is about, if the caller may manage them (404 otherwise, as if unknown). */
  async function managed(request: FastifyRequest<{ Params: { id: string } }>) {
    badFields(request);
    const target = /^[0-9]{1,9}$/.test(request.params.id) ? await findUserById(pool, Number(request.params.id)) : undefined;
    if (!target) throw new Problem(404, 'No such person.');
    authorize(personOf(request), 'user.manage', { vendorId: target.vendorId, authorityId: target.authorityId });
    return target;
  }

  app.post<{ Params: { id: string } }>('/users/:id/reset', { preHandler: requireLogin, ...pageSchema({ params: idParams, body: plainBody }) }, async (request, reply) => {
    const target = await managed(request);
    try {
      const r = await resetUser(pool, target.email, personOf(request).email, { publicUrl: config.portalPublicUrl, clock });
      return show(request, reply, { notice: request.t('users.linkMade', { email: r.email }), link: r.link.url });
    } catch (err) {
      if (err instanceof AccountRefusedError) return show(request, reply, { error: request.t(`account.${err.code}`) }, 409);
      throw err;
    }
  });

  for (const change of ['disable', 'enable'] as const) {
    app.post<{ Params: { id: string } }>(`/users/:id/${change}`, { preHandler: requireLogin, ...pageSchema({ params: idParams, body: plainBody }) }, async (request, reply) => {
      const p = personOf(request);
      const target = await managed(request);
      if (target.id === p.id) throw new Problem(409, 'You cannot disable yourself.');
      try {
        await setUserDisabled(pool, target.email, change === 'disable', p.email);
      } catch (err) {
        if (err instanceof AccountRefusedError) return show(request, reply, { error: request.t(`account.${err.code}`) }, 409);
        throw err;
      }
      return reply.redirect(`/users?${change}d=${encodeURIComponent(target.email)}`, 303);
    });
  }
}

/** The invitation form as typed (each field one string, whatever was sent), to show again. */
function typedForm(body: unknown): InviteForm {
  const b = (body ?? {}) as Record<string, unknown>;
  const one = (name: keyof InviteForm) => (typeof b[name] === 'string' ? (b[name] as string) : Array.isArray(b[name]) ? String((b[name] as unknown[])[0] ?? '') : '');
  return { email: one('email'), name: one('name'), role: one('role'), vendor: one('vendor'), authority: one('authority') };
}

function idOf(value: string): number | undefined {
  return /^[0-9]{1,9}$/.test(value) ? Number(value) : undefined;
}
