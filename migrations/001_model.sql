-- The data model of filudveksling (SPEC §1, §3, §5–6, §9). Forward-only; later changes get new files.

CREATE TABLE vendors (
  id          serial PRIMARY KEY,
  name        text NOT NULL UNIQUE,
  cvr         char(8),
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE systems (
  id               serial PRIMARY KEY,
  username         text NOT NULL UNIQUE CHECK (length(username) BETWEEN 1 AND 255),
  uuid             uuid NOT NULL UNIQUE,
  vendor_id        integer NOT NULL REFERENCES vendors(id),
  enabled          boolean NOT NULL DEFAULT true,
  inbox_layout     text NOT NULL DEFAULT 'per-authority' CHECK (inbox_layout IN ('per-authority', 'flat')),
  metadata_format  text NOT NULL DEFAULT 'file-metadata' CHECK (metadata_format IN ('file-metadata', 'legacy')),
  created_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE system_keys (
  id           serial PRIMARY KEY,
  system_id    integer NOT NULL REFERENCES systems(id),
  key_type     text NOT NULL,
  fingerprint  text NOT NULL,          -- 'SHA256:<base64 without padding>', as ssh-keygen -l prints it
  public_key   text NOT NULL,          -- '<type> <base64>' (the comment is kept apart)
  comment      text,
  added_at     timestamptz NOT NULL DEFAULT now(),
  removed_at   timestamptz
);
CREATE UNIQUE INDEX system_keys_active_fingerprint ON system_keys (system_id, fingerprint) WHERE removed_at IS NULL;
CREATE INDEX system_keys_system ON system_keys (system_id) WHERE removed_at IS NULL;

CREATE TABLE authorities (
  id           serial PRIMARY KEY,
  cvr          char(8) UNIQUE,
  name         text NOT NULL,
  kommunekode  char(4) UNIQUE,
  folder       text NOT NULL UNIQUE,   -- the in-folder name: kommunekode for a municipality, else --folder or the CVR
  created_at   timestamptz NOT NULL DEFAULT now()
);

-- InfRef numbers are issued from one counter row, so concurrent issuers get consecutive numbers.
CREATE TABLE infref_counter (
  only_row     boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  last_number  integer NOT NULL
);
INSERT INTO infref_counter (last_number) VALUES (0);

CREATE TABLE infrefs (
  id               serial PRIMARY KEY,
  number           integer NOT NULL CHECK (number > 0),
  version          integer NOT NULL CHECK (version > 0),
  owner_system_id  integer NOT NULL REFERENCES systems(id),
  title            text,
  status           text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked', 'superseded')),
  status_reason    text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (number, version)
);

CREATE TABLE gdpr_declarations (
  id               serial PRIMARY KEY,
  infref_id        integer NOT NULL UNIQUE REFERENCES infrefs(id),
  status           text NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
  document_name    text,
  document_sha256  char(64),
  reason           text,
  received_by      text NOT NULL,
  received_at      timestamptz NOT NULL DEFAULT now(),
  decided_by       text,
  decided_at       timestamptz
);

-- A route is established per InfRef number: it carries every version of that InfRef, and each
-- version's own status and declaration decide whether it may carry data.
CREATE TABLE routes (
  id                   serial PRIMARY KEY,
  sender_system_id     integer NOT NULL REFERENCES systems(id),
  infref_number        integer NOT NULL,
  recipient_system_id  integer NOT NULL REFERENCES systems(id),
  authority_id         integer NOT NULL REFERENCES authorities(id),
  valid_from           date,
  valid_to             date,
  created_by           text NOT NULL,
  created_at           timestamptz NOT NULL DEFAULT now(),
  removed_by           text,
  removed_at           timestamptz,
  CHECK (valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from)
);
CREATE INDEX routes_lookup ON routes (sender_system_id, infref_number, authority_id) WHERE removed_at IS NULL;

CREATE TABLE agreements (
  id            serial PRIMARY KEY,
  system_id     integer NOT NULL REFERENCES systems(id),
  service       text NOT NULL CHECK (service IN ('send', 'fetch')),
  authority_id  integer NOT NULL REFERENCES authorities(id),
  status        text NOT NULL DEFAULT 'requested' CHECK (status IN ('requested', 'approved', 'rejected')),
  reason        text,
  requested_by  text NOT NULL,
  requested_at  timestamptz NOT NULL DEFAULT now(),
  decided_by    text,
  decided_at    timestamptz
);
CREATE INDEX agreements_lookup ON agreements (system_id, service, authority_id);

-- One trigger is one transfer (SPEC §1). The router owns these tables.
CREATE TABLE transfers (
  id                uuid PRIMARY KEY,
  sender_system_id  integer NOT NULL REFERENCES systems(id),
  trigger_name      text NOT NULL,
  file_name         text,
  senders_file_id   text,
  size_bytes        bigint,
  sha256            char(64),
  infref_id         integer REFERENCES infrefs(id),
  authority_id      integer REFERENCES authorities(id),
  status            text NOT NULL CHECK (status IN ('received', 'validated', 'delivering', 'delivered', 'rejected', 'failed', 'expired')),
  error_code        text,
  error_text        text,
  trigger_xml       text,
  receipt_xml       text,
  received_at       timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX transfers_status ON transfers (status, received_at);
CREATE INDEX transfers_resend ON transfers (sender_system_id, senders_file_id) WHERE senders_file_id IS NOT NULL;

CREATE TABLE deliveries (
  id                   serial PRIMARY KEY,
  transfer_id          uuid NOT NULL REFERENCES transfers(id),
  recipient_system_id  integer NOT NULL REFERENCES systems(id),
  delivered_name       text,
  status               text NOT NULL CHECK (status IN ('pending', 'placed', 'delivered', 'fetched', 'expired')),
  placed_at            timestamptz,
  UNIQUE (transfer_id, recipient_system_id)
);

-- Append-only: every state change of a transfer, InfRef, route, system or agreement (SPEC §9).
CREATE TABLE audit_log (
  id         bigserial PRIMARY KEY,
  at         timestamptz NOT NULL DEFAULT now(),
  actor      text NOT NULL,
  action     text NOT NULL,
  entity     text NOT NULL,
  entity_id  text NOT NULL,
  before     jsonb,
  after      jsonb
);
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id);

CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only';
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
