-- Prices and invoices (SPEC §13): an authority's inhabitants, and KOMBIT's two price models.

-- Inhabitants (indbyggertal) as the operator last set them; the buffet line multiplies by it.
ALTER TABLE authorities ADD COLUMN inhabitants integer CHECK (inhabitants >= 0);

-- One row per price and first day. A price holds from valid_from until the next row of the same
-- model (and service) begins. Amounts are øre (1/100 DKK), whole numbers.
--   buffet:  per_inhabitant_ore — øre per inhabitant per year
--   per-use: per_file_ore, per_gib_ore — øre per delivered file and per GiB (2^30 bytes) of it,
--            for one service (send or fetch) kept outside the buffet
CREATE TABLE prices (
  id                  serial PRIMARY KEY,
  model               text NOT NULL CHECK (model IN ('buffet', 'per-use')),
  service             text NOT NULL DEFAULT '' CHECK (service IN ('', 'send', 'fetch')),
  valid_from          date NOT NULL,
  per_inhabitant_ore  bigint CHECK (per_inhabitant_ore >= 0),
  per_file_ore        bigint CHECK (per_file_ore >= 0),
  per_gib_ore         bigint CHECK (per_gib_ore >= 0),
  set_by              text NOT NULL,
  set_at              timestamptz NOT NULL DEFAULT now(),
  CHECK (
    (model = 'buffet' AND service = '' AND per_inhabitant_ore IS NOT NULL AND per_file_ore IS NULL AND per_gib_ore IS NULL)
    OR (model = 'per-use' AND service <> '' AND per_inhabitant_ore IS NULL AND per_file_ore IS NOT NULL AND per_gib_ore IS NOT NULL)
  ),
  UNIQUE (model, service, valid_from)
);

-- Usage per Danish day, kept by the database as deliveries are placed, so that usage and invoices
-- read thousands of rows instead of every delivery (1,000,000 deliveries answer in milliseconds;
-- see docs/benchmarks.md). One row per day, authority, InfRef, sender and recipient:
--   deliveries, bytes  — one per transfer and recipient, and its size (SPEC §13)
--   transfers, bytes_sent — each transfer once, on the row of its first placed delivery
CREATE TABLE usage_daily (
  day                  date NOT NULL,
  authority_id         integer NOT NULL,
  infref_id            integer NOT NULL,
  sender_system_id     integer NOT NULL,
  recipient_system_id  integer NOT NULL,
  transfers            bigint NOT NULL,
  deliveries           bigint NOT NULL,
  bytes_sent           bigint NOT NULL,
  bytes                bigint NOT NULL,
  PRIMARY KEY (day, authority_id, infref_id, sender_system_id, recipient_system_id)
);

-- Adds the deliveries a statement placed (placed_at set where it was not). A transfer counts once:
-- in the statement that places its first delivery(ies), on the one with the lowest recipient id.
-- The router places all of a transfer's deliveries in one statement (src/router/sql/record-delivered.ts);
-- rows are added in key order, so concurrent statements lock rollup rows without deadlocking.
-- PL/pgSQL rather than SQL: a session keeps the statement's plan (the router calls it once per transfer).
CREATE FUNCTION usage_daily_add(placed_ids integer[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  WITH placed AS (
    SELECT d.transfer_id, d.recipient_system_id, d.placed_at, t.authority_id, t.infref_id, t.sender_system_id, coalesce(t.size_bytes, 0) AS size,
           row_number() OVER (PARTITION BY d.transfer_id ORDER BY d.recipient_system_id) AS nth,
           count(*) OVER (PARTITION BY d.transfer_id) AS in_statement
      FROM unnest(placed_ids) AS p(id) JOIN deliveries d ON d.id = p.id JOIN transfers t ON t.id = d.transfer_id
     WHERE t.authority_id IS NOT NULL AND t.infref_id IS NOT NULL
  ), counted AS (
    SELECT *, nth = 1 AND in_statement = (SELECT count(*) FROM deliveries o WHERE o.transfer_id = placed.transfer_id AND o.placed_at IS NOT NULL) AS first
      FROM placed
  )
  INSERT INTO usage_daily AS u (day, authority_id, infref_id, sender_system_id, recipient_system_id, transfers, deliveries, bytes_sent, bytes)
  SELECT (placed_at AT TIME ZONE 'Europe/Copenhagen')::date, authority_id, infref_id, sender_system_id, recipient_system_id,
         count(*) FILTER (WHERE first), count(*), coalesce(sum(size) FILTER (WHERE first), 0), sum(size)
    FROM counted
   GROUP BY 1, 2, 3, 4, 5
   ORDER BY 1, 2, 3, 4, 5
  ON CONFLICT (day, authority_id, infref_id, sender_system_id, recipient_system_id) DO UPDATE
     SET transfers = u.transfers + excluded.transfers, deliveries = u.deliveries + excluded.deliveries,
         bytes_sent = u.bytes_sent + excluded.bytes_sent, bytes = u.bytes + excluded.bytes;
END $$;

CREATE FUNCTION usage_daily_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE ids integer[] := ARRAY(SELECT id FROM placed_rows WHERE placed_at IS NOT NULL);
BEGIN
  IF cardinality(ids) > 0 THEN PERFORM usage_daily_add(ids); END IF;
  RETURN NULL;
END $$;

-- Other updates of deliveries (fetched, expired) place nothing and cost one empty array.
CREATE FUNCTION usage_daily_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE ids integer[] := ARRAY(SELECT n.id FROM placed_rows n JOIN unplaced_rows o ON o.id = n.id WHERE n.placed_at IS NOT NULL AND o.placed_at IS NULL);
BEGIN
  IF cardinality(ids) > 0 THEN PERFORM usage_daily_add(ids); END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER usage_daily_insert AFTER INSERT ON deliveries REFERENCING NEW TABLE AS placed_rows
  FOR EACH STATEMENT EXECUTE FUNCTION usage_daily_on_insert();
CREATE TRIGGER usage_daily_update AFTER UPDATE ON deliveries REFERENCING NEW TABLE AS placed_rows OLD TABLE AS unplaced_rows
  FOR EACH STATEMENT EXECUTE FUNCTION usage_daily_on_update();

-- Deliveries placed before this migration count too.
SELECT usage_daily_add(ARRAY(SELECT id FROM deliveries WHERE placed_at IS NOT NULL));
