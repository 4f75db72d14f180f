-- A failed transfer (1901) owes its sender the DELIVERY_FAILED receipt from the commit that records the
-- failure until the receipt is in the sender's IN. A node killed in between left the sender without a
-- receipt for good: nothing resumed a failed transfer. Now the flag is set with the failure and cleared
-- once the receipt is written; unfinished-transfers.ts resumes a failed transfer that still owes it.
-- Failures recorded before this migration had their receipt written (or are past helping): false.
ALTER TABLE transfers ADD COLUMN failure_receipt_owed boolean NOT NULL DEFAULT false;
CREATE INDEX transfers_failure_receipt_owed ON transfers (id) WHERE failure_receipt_owed;
