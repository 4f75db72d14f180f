-- Keyset paging of the portal's transfer lists (SPEC §11: newest first, `?after=` the last row's
-- (received_at, id)), per scope: everything, a sender's, an authority's data; and the
-- recipient side of a vendor's scope (deliveries to its systems).
CREATE INDEX transfers_newest ON transfers (received_at DESC, id DESC);
CREATE INDEX transfers_sender_newest ON transfers (sender_system_id, received_at DESC, id DESC);
CREATE INDEX transfers_authority_newest ON transfers (authority_id, received_at DESC, id DESC);
CREATE INDEX deliveries_recipient ON deliveries (recipient_system_id, transfer_id);
