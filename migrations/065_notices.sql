-- Notices (SPEC §12): one row per (event, addressee), written in the event's own transaction.
-- state: pending → sending (claimed by one node, fenced by claim) → committing (the message's
-- last line about to go to the SMTP server) → sent; an SMTP refusal puts it back to pending
-- (attempts + 1) until the last attempt makes it failed. A node that died while 'sending' never
-- wrote the final dot, so the row goes back to pending; one that died while 'committing' may have
-- had the mail accepted, so the row becomes 'uncertain' and is not sent again (at most once).
CREATE TABLE notices (
  id            bigserial PRIMARY KEY,
  event         text NOT NULL,
  event_key     text NOT NULL,
  user_id       integer REFERENCES users(id),
  email         text NOT NULL,
  language      text NOT NULL CHECK (language IN ('da', 'en')),
  subject       text NOT NULL,
  body          text NOT NULL,
  -- A path below PORTAL_PUBLIC_URL (joined when mailed) or an absolute account link.
  link          text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  state         text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sending', 'committing', 'sent', 'failed', 'uncertain')),
  claim         text,
  claimed_at    timestamptz,
  sent_at       timestamptz,
  attempts      integer NOT NULL DEFAULT 0,
  last_error    text,
  UNIQUE (event_key, email)
);
CREATE INDEX notices_open ON notices (id) WHERE state IN ('pending', 'sending', 'committing');
CREATE INDEX notices_user ON notices (user_id, created_at DESC);
