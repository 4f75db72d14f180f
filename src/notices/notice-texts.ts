import type { Language } from '../accounts/roles.js';

/** SPEC §12's events. */
export const NOTICE_EVENTS = [
  'agreement.requested',
  'agreement.approved',
  'agreement.rejected',
  'agreement.terminated',
  'declaration.approved',
  'declaration.rejected',
  'transfer.failed',
  'transfers.rejected',
  'recipient.behind',
  'account.invitation',
  'account.reset',
] as const;
export type NoticeEvent = (typeof NOTICE_EVENTS)[number];

/** What a text may name: system, authority, service, reason, counts — never a file's contents. */
export type NoticeFacts = Record<string, string | number>;

/** An agreement notice's page: the agreement's own (notices recorded before it was in their facts: the list). */
const agreementPath = (f: NoticeFacts): string => (f.agreement === undefined ? '/agreements' : `/agreements/${f.agreement}`);

interface Text {
  subject: (f: NoticeFacts) => string;
  body: (f: NoticeFacts) => string;
  /** Where the link points, below PORTAL_PUBLIC_URL. */
  path: (f: NoticeFacts) => string;
}

/** "1 file", "2 files". */
const n = (count: string | number | undefined, one: string, many: string) => `${count} ${Number(count) === 1 ? one : many}`;

const reason = (f: NoticeFacts, label: string) => (f.reason ? `\n${label}: ${f.reason}` : '');

const TEXTS: Record<NoticeEvent, Record<Language, Text>> = {
  'agreement.requested': {
    da: { subject: (f) => `Anmodning om serviceaftale: ${f.system} (${f.service})`, body: (f) => `Leverandøren ${f.vendor} anmoder om en serviceaftale for it-systemet ${f.system} om servicen ${f.service} med ${f.authority}.\nGodkend eller afvis anmodningen i selvbetjeningen.`, path: agreementPath },
    en: { subject: (f) => `Agreement requested: ${f.system} (${f.service})`, body: (f) => `The vendor ${f.vendor} requests an agreement for the IT system ${f.system} on the service ${f.service} with ${f.authority}.\nApprove or reject it in the portal.`, path: agreementPath },
  },
  'agreement.approved': {
    da: { subject: (f) => `Serviceaftale godkendt: ${f.system} (${f.service})`, body: (f) => `${f.authority} har godkendt serviceaftalen for ${f.system} om ${f.service}.${reason(f, 'Begrundelse')}`, path: agreementPath },
    en: { subject: (f) => `Agreement approved: ${f.system} (${f.service})`, body: (f) => `${f.authority} approved the agreement for ${f.system} on ${f.service}.${reason(f, 'Reason')}`, path: agreementPath },
  },
  'agreement.rejected': {
    da: { subject: (f) => `Serviceaftale afvist: ${f.system} (${f.service})`, body: (f) => `${f.authority} har afvist serviceaftalen for ${f.system} om ${f.service}.${reason(f, 'Begrundelse')}`, path: agreementPath },
    en: { subject: (f) => `Agreement rejected: ${f.system} (${f.service})`, body: (f) => `${f.authority} rejected the agreement for ${f.system} on ${f.service}.${reason(f, 'Reason')}`, path: agreementPath },
  },
  'agreement.terminated': {
    da: { subject: (f) => `Serviceaftale opsagt: ${f.system} (${f.service})`, body: (f) => `${f.authority} har opsagt serviceaftalen for ${f.system} om ${f.service} fra ${f.effective}.${reason(f, 'Begrundelse')}`, path: agreementPath },
    en: { subject: (f) => `Agreement terminated: ${f.system} (${f.service})`, body: (f) => `${f.authority} terminated the agreement for ${f.system} on ${f.service} from ${f.effective}.${reason(f, 'Reason')}`, path: agreementPath },
  },
  'declaration.approved': {
    da: { subject: (f) => `GDPR-erklæring godkendt: ${f.infref}`, body: (f) => `GDPR-erklæringen for ${f.infref} er godkendt.${reason(f, 'Begrundelse')}`, path: () => '/infrefs' },
    en: { subject: (f) => `GDPR declaration approved: ${f.infref}`, body: (f) => `The GDPR declaration for ${f.infref} was approved.${reason(f, 'Reason')}`, path: () => '/infrefs' },
  },
  'declaration.rejected': {
    da: { subject: (f) => `GDPR-erklæring afvist: ${f.infref}`, body: (f) => `GDPR-erklæringen for ${f.infref} er afvist.${reason(f, 'Begrundelse')}`, path: () => '/infrefs' },
    en: { subject: (f) => `GDPR declaration rejected: ${f.infref}`, body: (f) => `The GDPR declaration for ${f.infref} was rejected.${reason(f, 'Reason')}`, path: () => '/infrefs' },
  },
  'transfer.failed': {
    da: { subject: (f) => `Overførsel fejlet (1901): ${f.system}`, body: (f) => `Overførslen ${f.transfer} fra ${f.system} (${f.fileName}) kunne ikke gennemføres og er fejlet med kode 1901.\nDriften er underrettet.`, path: (f) => `/transfers/${f.transfer}` },
    en: { subject: (f) => `Transfer failed (1901): ${f.system}`, body: (f) => `The transfer ${f.transfer} from ${f.system} (${f.fileName}) could not be completed and failed with code 1901.\nOperations have been told.`, path: (f) => `/transfers/${f.transfer}` },
  },
  'transfers.rejected': {
    da: { subject: (f) => `${n(f.count, 'overførsel', 'overførsler')} afvist: ${f.system}`, body: (f) => `${n(f.count, 'overførsel', 'overførsler')} fra ${f.system} blev afvist i timen fra ${f.hour}:\n${f.lines}`, path: () => '/transfers' },
    en: { subject: (f) => `${n(f.count, 'transfer', 'transfers')} rejected: ${f.system}`, body: (f) => `${n(f.count, 'transfer', 'transfers')} from ${f.system} ${f.count === 1 ? 'was' : 'were'} rejected in the hour from ${f.hour}:\n${f.lines}`, path: () => '/transfers' },
  },
  'recipient.behind': {
    da: { subject: (f) => `Filer hentes ikke: ${f.system}`, body: (f) => `${f.system} har ${n(f.count, 'leveret fil', 'leverede filer')}, der ikke er hentet; ${Number(f.count) === 1 ? 'den' : 'den ældste'} blev leveret ${f.oldest} (mere end ${f.hours} timer siden).`, path: () => '/transfers' },
    en: { subject: (f) => `Files not collected: ${f.system}`, body: (f) => `${f.system} has ${n(f.count, 'delivered file', 'delivered files')} not collected; ${Number(f.count) === 1 ? 'it' : 'the oldest'} was delivered ${f.oldest} (more than ${f.hours} hours ago).`, path: () => '/transfers' },
  },
  'account.invitation': {
    da: { subject: () => 'Invitation til Fælleskommunal Filudveksling', body: (f) => `${f.name ? `Hej ${f.name}\n\n` : ''}Du er inviteret til selvbetjeningen. Vælg din adgangskode via linket nedenfor inden ${f.expires}.`, path: (f) => String(f.link) },
    en: { subject: () => 'Invitation to Fælleskommunal Filudveksling', body: (f) => `${f.name ? `Hello ${f.name}\n\n` : ''}You are invited to the portal. Choose your password through the link below before ${f.expires}.`, path: (f) => String(f.link) },
  },
  'account.reset': {
    da: { subject: () => 'Ny adgangskode til Fælleskommunal Filudveksling', body: (f) => `Vælg en ny adgangskode via linket nedenfor inden ${f.expires}. Har du ikke bedt om det, kan du se bort fra denne besked.`, path: (f) => String(f.link) },
    en: { subject: () => 'New password for Fælleskommunal Filudveksling', body: (f) => `Choose a new password through the link below before ${f.expires}. If you did not ask for it, ignore this message.`, path: (f) => String(f.link) },
  },
};

/**
 * Subject and body in the addressee's language, and the link: a path below PORTAL_PUBLIC_URL (joined
 * when the mail is written, so an event's transaction needs no configuration) or an account link.
 */
export function noticeText(event: NoticeEvent, language: Language, facts: NoticeFacts): { subject: string; body: string; link: string } {
  const text = TEXTS[event][language];
  return { subject: text.subject(facts), body: text.body(facts), link: text.path(facts) };
}

/** The notice's link as the mail carries it: a path joined to PORTAL_PUBLIC_URL, an account link as it is. */
export function noticeUrl(link: string, publicUrl: string): string {
  return /^https?:\/\//.test(link) ? link : `${publicUrl}${link}`;
}

/** The mail's text: body, the absolute link, and a signature. */
export function mailText(notice: { body: string; link: string; language: Language }, publicUrl: string): string {
  const link = noticeUrl(notice.link, publicUrl);
  const footer = notice.language === 'da' ? 'Fælleskommunal Filudveksling — denne besked er sendt automatisk.' : 'Fælleskommunal Filudveksling — this message was sent automatically.';
  return `${notice.body}\n\n${link}\n\n-- \n${footer}\n`;
}
