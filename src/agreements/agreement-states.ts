import { RefusedError, UsageError } from '../errors.js';

/**
 * The states of a service agreement (SPEC §11), in one place; migrations/060's CHECK is held to
 * this list by a test. requested → approved | rejected | withdrawn; approved → terminated (from
 * its effective day). rejected, withdrawn and terminated are final: the system asks again with a
 * new request.
 */
export const AGREEMENT_STATES = ['requested', 'approved', 'rejected', 'withdrawn', 'terminated'] as const;
export type AgreementStatus = (typeof AGREEMENT_STATES)[number];

export const AGREEMENT_SERVICES = ['send', 'fetch'] as const;
export type AgreementService = (typeof AGREEMENT_SERVICES)[number];

/** What can be done to an agreement, and the state it must be in. */
export const AGREEMENT_ACTIONS = {
  approve: { from: 'requested', to: 'approved', past: 'approved' },
  reject: { from: 'requested', to: 'rejected', past: 'rejected' },
  withdraw: { from: 'requested', to: 'withdrawn', past: 'withdrawn' },
  terminate: { from: 'approved', to: 'terminated', past: 'terminated' },
} as const satisfies Record<string, { from: AgreementStatus; to: AgreementStatus; past: string }>;
export type AgreementAction = keyof typeof AGREEMENT_ACTIONS;

export function parseAgreementStatus(text: string, option = '--status'): AgreementStatus {
  if ((AGREEMENT_STATES as readonly string[]).includes(text)) return text as AgreementStatus;
  throw new UsageError(`${option} '${text}' is not a state: use ${AGREEMENT_STATES.slice(0, -1).join(', ')} or ${AGREEMENT_STATES.at(-1)}.`, { code: 'agreement-status-invalid', values: { status: text } });
}

export function parseService(text: string, option = '--service'): AgreementService {
  if ((AGREEMENT_SERVICES as readonly string[]).includes(text)) return text as AgreementService;
  throw new UsageError(`${option} '${text}' is not a service: use 'send' or 'fetch'.`, { code: 'agreement-service', values: { service: text } });
}

/** An action asked of an agreement in the wrong state (the API's 409): names the state and what to do. */
export class AgreementStateError extends RefusedError {
  constructor(
    readonly agreementId: number,
    readonly status: AgreementStatus,
    readonly action: AgreementAction,
    detail: string | null,
  ) {
    const state = status === 'requested' ? 'still requested' : `already ${status}`;
    const next = whatToDo(status, action);
    super(`Agreement ${agreementId} is ${state}${detail ? ` (${detail})` : ''}; it cannot be ${AGREEMENT_ACTIONS[action].past}. ${NEXT[next]}.`, {
      code: 'agreement-state',
      values: { id: agreementId, status, action, from: AGREEMENT_ACTIONS[action].from, next },
    });
  }
}

/** What can be done instead, by name (the portal says it in its own words) and in the CLI's. */
const NEXT = {
  decide: 'A pending request is approved, rejected or withdrawn; terminating is for an approved one',
  terminate: 'To end it, terminate it with a reason and an effective day',
  'nothing-terminated': 'It stops counting on that day; nothing more to do',
  nothing: 'Nothing to do',
  'new-request': 'A new request can be made',
} as const;

function whatToDo(status: AgreementStatus, action: AgreementAction): keyof typeof NEXT {
  if (status === 'requested') return 'decide';
  if (status === 'approved') return action === 'approve' ? 'nothing' : 'terminate';
  if (status === 'terminated' && action === 'terminate') return 'nothing-terminated';
  if (status === AGREEMENT_ACTIONS[action].to) return 'nothing';
  return 'new-request';
}
