-- Retention (RETENTION_DAYS): when a transfer's files were purged, and the delivery that expired.
ALTER TABLE transfers ADD COLUMN expired_at timestamptz;
ALTER TABLE deliveries ADD COLUMN expired_at timestamptz;
