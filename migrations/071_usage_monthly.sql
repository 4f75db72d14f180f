-- Usage per month beside usage per day (070): a year's usage is twelve rows per (authority, InfRef,
-- sender, recipient) instead of 365. Reports read whole months here and only the days of a month a
-- period or a price change cuts into from usage_daily (src/usage/usage-source.ts).
CREATE TABLE usage_monthly (
  month                date NOT NULL CHECK (extract(day FROM month) = 1),
  authority_id         integer NOT NULL,
  infref_id            integer NOT NULL,
  sender_system_id     integer NOT NULL,
  recipient_system_id  integer NOT NULL,
  transfers            bigint NOT NULL,
  deliveries           bigint NOT NULL,
  bytes_sent           bigint NOT NULL,
  bytes                bigint NOT NULL,
  PRIMARY KEY (month, authority_id, infref_id, sender_system_id, recipient_system_id)
);

INSERT INTO usage_monthly
SELECT date_trunc('month', day)::date, authority_id, infref_id, sender_system_id, recipient_system_id,
       sum(transfers), sum(deliveries), sum(bytes_sent), sum(bytes)
  FROM usage_daily GROUP BY 1, 2, 3, 4, 5;

-- As in 070, now adding each day's figures to its month as well, in the same statement.
CREATE OR REPLACE FUNCTION usage_daily_add(placed_ids integer[]) RETURNS void LANGUAGE plpgsql AS $$
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
  ), daily AS (
    SELECT (placed_at AT TIME ZONE 'Europe/Copenhagen')::date AS day, authority_id, infref_id, sender_system_id, recipient_system_id,
           count(*) FILTER (WHERE first) AS transfers, count(*) AS deliveries, coalesce(sum(size) FILTER (WHERE first), 0) AS bytes_sent, sum(size) AS bytes
      FROM counted
     GROUP BY 1, 2, 3, 4, 5
  ), add_days AS (
    INSERT INTO usage_daily AS u (day, authority_id, infref_id, sender_system_id, recipient_system_id, transfers, deliveries, bytes_sent, bytes)
    SELECT * FROM daily ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (day, authority_id, infref_id, sender_system_id, recipient_system_id) DO UPDATE
       SET transfers = u.transfers + excluded.transfers, deliveries = u.deliveries + excluded.deliveries,
           bytes_sent = u.bytes_sent + excluded.bytes_sent, bytes = u.bytes + excluded.bytes
  )
  INSERT INTO usage_monthly AS m (month, authority_id, infref_id, sender_system_id, recipient_system_id, transfers, deliveries, bytes_sent, bytes)
  SELECT date_trunc('month', day)::date, authority_id, infref_id, sender_system_id, recipient_system_id,
         sum(transfers), sum(deliveries), sum(bytes_sent), sum(bytes)
    FROM daily
   GROUP BY 1, 2, 3, 4, 5
   ORDER BY 1, 2, 3, 4, 5
  ON CONFLICT (month, authority_id, infref_id, sender_system_id, recipient_system_id) DO UPDATE
     SET transfers = m.transfers + excluded.transfers, deliveries = m.deliveries + excluded.deliveries,
         bytes_sent = m.bytes_sent + excluded.bytes_sent, bytes = m.bytes + excluded.bytes;
END $$;
