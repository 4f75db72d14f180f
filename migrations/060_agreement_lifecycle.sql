-- Service agreements end (SPEC §11): a vendor withdraws a request still pending; an authority
-- terminates (opsiger) an approved one from an effective day. The state list is kept in
-- src/agreements/agreement-states.ts; a test holds this CHECK to it.
ALTER TABLE agreements DROP CONSTRAINT agreements_status_check;
ALTER TABLE agreements ADD CONSTRAINT agreements_status_check
  CHECK (status IN ('requested', 'approved', 'rejected', 'withdrawn', 'terminated'));
ALTER TABLE agreements
  ADD COLUMN terminated_by      text,
  ADD COLUMN terminated_at      timestamptz,
  ADD COLUMN termination_reason text,
  -- the first day the agreement no longer counts (Danish calendar day)
  ADD COLUMN effective_on       date,
  ADD CONSTRAINT agreements_terminated_whole
    CHECK ((status = 'terminated') = (terminated_at IS NOT NULL AND effective_on IS NOT NULL AND termination_reason IS NOT NULL));

-- The portal lists an authority's agreements and a system's (newest first) and 1205 asks per
-- (system, service, authority) among approved and terminated ones.
CREATE INDEX agreements_authority ON agreements (authority_id, id);
CREATE INDEX agreements_counting ON agreements (system_id, service, authority_id) WHERE status IN ('approved', 'terminated');
