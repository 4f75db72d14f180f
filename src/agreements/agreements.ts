/**
 * Service agreements (serviceaftaler, SPEC §1, §11): an authority's approval that a system may use
 * the send or fetch service. The CLI and the portal call these same functions.
 */
export { findAgreement, listAgreements, parseAgreementId, type AgreementFilter, type AgreementRow } from './agreement-row.js';
export { AGREEMENT_STATES, AgreementStateError, parseAgreementStatus, parseService, type AgreementAction, type AgreementStatus } from './agreement-states.js';
export { approveAgreement, changeAgreement, decideAgreement, REASON_MAX_LENGTH, rejectAgreement, terminateAgreement, withdrawAgreement, type ChangeInput } from './change-agreement.js';
export { ALL_MUNICIPALITIES, requestAgreement, requestAgreements, type AgreementRequest } from './request-agreements.js';
