-- Routing and delivery (SPEC §5–7): the router's bookkeeping on top of transfers/deliveries (001).

-- A trigger that repeats a delivered transfer (same Sender + SendersFileId) is recorded as 'resent'.
ALTER TABLE transfers DROP CONSTRAINT transfers_status_check;
ALTER TABLE transfers ADD CONSTRAINT transfers_status_check
  CHECK (status IN ('received', 'validated', 'delivering', 'delivered', 'rejected', 'failed', 'expired', 'resent'));

ALTER TABLE transfers
  -- Identity of the trigger file this transfer came from (owner, name, inode, mtime, size): whichever
  -- of the intake paths (upload event, watcher, start scan) sees it first creates the transfer, the
  -- others find it here.
  ADD COLUMN trigger_key       text,
  ADD COLUMN resend_of         uuid REFERENCES transfers(id),
  ADD COLUMN transaction_id    text,
  ADD COLUMN recipients        text[],
  ADD COLUMN trigger_closed_at timestamptz,
  ADD COLUMN decided_at        timestamptz,
  ADD COLUMN finished_at       timestamptz,
  -- Operator retries of a failed transfer (filudveksling transfer retry).
  ADD COLUMN retries           integer NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX transfers_trigger_key ON transfers (trigger_key);
CREATE INDEX transfers_unfinished ON transfers (received_at) WHERE finished_at IS NULL;

ALTER TABLE deliveries
  ADD COLUMN folder        text,
  ADD COLUMN metadata_at   timestamptz;

-- Every step a transfer went through, with its time (filudveksling transfer show).
CREATE TABLE transfer_steps (
  transfer_id  uuid NOT NULL REFERENCES transfers(id),
  step         text NOT NULL,
  at           timestamptz NOT NULL,
  detail       jsonb,
  PRIMARY KEY (transfer_id, step)
);
