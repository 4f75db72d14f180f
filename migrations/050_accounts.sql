-- People of the portal (SPEC §11): accounts, their one-time links, sessions, API tokens, failed logins.
-- Secrets (link tokens, session ids, API tokens) are stored as SHA-256 hashes only.

CREATE TABLE users (
  id             serial PRIMARY KEY,
  email          text NOT NULL UNIQUE CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254),
  name           text NOT NULL DEFAULT '' CHECK (length(name) <= 200),
  role           text NOT NULL CHECK (role IN ('operator', 'vendor-admin', 'vendor-user', 'authority-admin', 'authority-user')),
  vendor_id      integer REFERENCES vendors(id),
  authority_id   integer REFERENCES authorities(id),
  language       text NOT NULL DEFAULT 'da' CHECK (language IN ('da', 'en')),
  password_hash  text,
  disabled       boolean NOT NULL DEFAULT false,
  created_at     timestamptz NOT NULL DEFAULT now(),
  -- A person belongs to exactly the organisation its role names.
  CHECK ((role LIKE 'vendor-%') = (vendor_id IS NOT NULL)),
  CHECK ((role LIKE 'authority-%') = (authority_id IS NOT NULL))
);
CREATE INDEX users_vendor ON users (vendor_id) WHERE vendor_id IS NOT NULL;
CREATE INDEX users_authority ON users (authority_id) WHERE authority_id IS NOT NULL;

-- Invitation and reset links: one-time, valid 72 h.
CREATE TABLE account_links (
  token_hash   bytea PRIMARY KEY,
  user_id      integer NOT NULL REFERENCES users(id),
  purpose      text NOT NULL CHECK (purpose IN ('invitation', 'reset')),
  created_at   timestamptz NOT NULL,
  expires_at   timestamptz NOT NULL,
  used_at      timestamptz
);
CREATE INDEX account_links_user ON account_links (user_id);

-- Sessions: 8 h idle, 24 h at most (the portal checks both against its clock).
CREATE TABLE sessions (
  id_hash      bytea PRIMARY KEY,
  user_id      integer NOT NULL REFERENCES users(id),
  created_at   timestamptz NOT NULL,
  last_seen    timestamptz NOT NULL,
  address      text
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
  id           serial PRIMARY KEY,
  token_hash   bytea NOT NULL UNIQUE,
  user_id      integer NOT NULL REFERENCES users(id),
  created_at   timestamptz NOT NULL DEFAULT now(),
  revoked_at   timestamptz
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- Failed logins per (e-mail as typed, address), known account or not; a pair with 10 in 15 min is
-- locked for 15 min.
CREATE TABLE login_failures (
  email    text NOT NULL,
  address  text NOT NULL,
  at       timestamptz NOT NULL
);
CREATE INDEX login_failures_pair ON login_failures (email, address, at);

CREATE TABLE login_lockouts (
  email    text NOT NULL,
  address  text NOT NULL,
  until    timestamptz NOT NULL,
  PRIMARY KEY (email, address)
);

-- Secrets shared by every portal node (the cookie-signing key), made once.
CREATE TABLE portal_secrets (
  name        text PRIMARY KEY,
  value       text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
