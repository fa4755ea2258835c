-- The alert outbox: a stored alert is published on the durable stream and then marked here; the
-- matcher republishes what a crash left unmarked, so no stored alert misses the live feed.
ALTER TABLE alerts ADD COLUMN published_at timestamptz;
UPDATE alerts SET published_at = created_at;
CREATE INDEX alerts_unpublished_idx ON alerts (id) WHERE published_at IS NULL;
