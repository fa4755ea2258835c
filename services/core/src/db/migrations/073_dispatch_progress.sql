-- What the officer an alert was passed to has done since: acknowledged it, then set off towards the
-- person. Only that officer (alert_dispatches.officer_id) records either, so the row says who; the
-- columns say when. Deleted with the dispatch, which is deleted with its alert.
ALTER TABLE alert_dispatches ADD COLUMN acknowledged_at timestamptz;
ALTER TABLE alert_dispatches ADD COLUMN en_route_at timestamptz;
ALTER TABLE alert_dispatches ADD CONSTRAINT alert_dispatches_en_route_acknowledged
  CHECK (en_route_at IS NULL OR acknowledged_at IS NOT NULL);
