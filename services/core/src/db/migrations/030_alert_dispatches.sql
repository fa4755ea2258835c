-- Alerts an operator passed to an officer on the ground (an operator-role user assigned to the
-- deployment) for engagement. Deleted with their alert by the alert retention.
CREATE TABLE alert_dispatches (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  alert_id bigint NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
  officer_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  dispatched_by uuid REFERENCES users (id) ON DELETE SET NULL,
  note text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alert_dispatches_officer_idx ON alert_dispatches (officer_id, id);
CREATE INDEX alert_dispatches_alert_idx ON alert_dispatches (alert_id);
