-- GDPR declaration documents (SPEC §11): the signed declaration a vendor uploads for its InfRef
-- version, kept whole so operators can read it. The bytes live here, beside the declaration row
-- they belong to: recorded in the same transaction (no file without its row, no row without its
-- file), in every backup of the database, and seen by every node without the shared data folder.
-- 20 MiB at most (checked before it gets here); every received document is kept, the declaration
-- points at the one it was last received with.
CREATE TABLE declaration_documents (
  id            serial PRIMARY KEY,
  infref_id     integer NOT NULL REFERENCES infrefs(id),
  name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
  content_type  text NOT NULL,
  size_bytes    integer NOT NULL CHECK (size_bytes BETWEEN 1 AND 20971520),
  sha256        char(64) NOT NULL,
  content       bytea NOT NULL,
  uploaded_by   text NOT NULL,
  uploaded_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX declaration_documents_infref ON declaration_documents (infref_id);
ALTER TABLE gdpr_declarations ADD COLUMN document_id integer REFERENCES declaration_documents(id);
