import type { Person } from '../accounts/person.js';
import type { Translate } from './i18n/messages.js';
import type { PortalContext } from './portal-context.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** What every route of the portal may use: the database, configuration, clock. */
    portal: PortalContext;
  }
  interface FastifyRequest {
    /** The logged-in person (session cookie) or API caller (bearer token); null when anonymous. */
    person: Person | null;
    /** How the person was recognised: CSRF is checked for cookie sessions only. */
    authVia: 'session' | 'token' | null;
    /** The session id from the cookie, when there is a live session. */
    sessionId: string | null;
    /** The texts in the request's language (the person's, else the `lang` cookie, else Danish). */
    t: Translate;
    language: 'da' | 'en';
  }
}
