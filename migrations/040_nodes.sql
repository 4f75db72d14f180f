-- Every serve node reports itself here (heartbeat), so `filudveksling status` can show the cluster.
CREATE TABLE nodes (
  id            text PRIMARY KEY,           -- <hostname>:<pid>:<start time>
  hostname      text NOT NULL,
  pid           integer NOT NULL,
  role          text NOT NULL,
  started_at    timestamptz NOT NULL DEFAULT now(),
  last_seen     timestamptz NOT NULL DEFAULT now(),
  sessions      integer NOT NULL DEFAULT 0,
  stopped_at    timestamptz
);
