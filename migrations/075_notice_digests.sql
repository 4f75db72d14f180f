-- Periodic notices (SPEC §12) written at most once, also across restarts and several nodes: a row
-- here is inserted in the same transaction as the notices it stands for, and its key refuses a
-- second. Rejection digests: one per sending system per hour (the hour the rejections were decided).
CREATE TABLE rejection_digests (
  system_id   integer NOT NULL REFERENCES systems(id) ON DELETE CASCADE,
  hour        timestamptz NOT NULL,
  rejected    integer NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (system_id, hour)
);
-- "Recipient falling behind" (SPEC §6): when each recipient's vendor was last told, at most once a day.
CREATE TABLE falling_behind_notified (
  system_id    integer PRIMARY KEY REFERENCES systems(id) ON DELETE CASCADE,
  notified_at  timestamptz NOT NULL
);
-- The digest's query looks at the last day's rejections: few rows, found without reading the others.
CREATE INDEX transfers_rejected_decided ON transfers (decided_at) WHERE status = 'rejected';
