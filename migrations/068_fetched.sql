-- SPEC §6 "Fetched and deleted": per delivery, when its recipient first read the whole data file and
-- when it deleted it, and on which node. Set once (the first time), by the SFTP edge.
ALTER TABLE deliveries
  ADD COLUMN fetched_at      timestamptz,
  ADD COLUMN fetched_by_node text,
  ADD COLUMN deleted_at      timestamptz,
  ADD COLUMN deleted_by_node text;

-- The SFTP edge finds a delivery by what the recipient sees: its folder and the delivered name.
CREATE INDEX deliveries_by_recipient_name ON deliveries (recipient_system_id, delivered_name) WHERE deleted_at IS NULL;
-- Status and metrics ask for the deliveries still waiting for their recipient.
CREATE INDEX deliveries_unfetched ON deliveries (recipient_system_id, placed_at) WHERE fetched_at IS NULL AND deleted_at IS NULL AND placed_at IS NOT NULL;
