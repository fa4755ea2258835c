-- What stays of an alert after VIGIL_ALERT_RETENTION_DAYS: counts per deployment, hour and outcome
-- (the latest adjudication, or 'unresolved'), so published statistics do not change when the alerts,
-- their crops and adjudications are deleted. No subject, camera, image or score.
CREATE TABLE alert_outcome_archive (
  deployment_id uuid NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
  hour timestamptz NOT NULL,
  outcome text NOT NULL CHECK (outcome IN ('confirmed', 'false_alert', 'not_stopped', 'engaged', 'arrested', 'unresolved')),
  alerts bigint NOT NULL,
  PRIMARY KEY (deployment_id, hour, outcome)
);

-- Retention finds old alerts by capture time.
CREATE INDEX alerts_captured_at_idx ON alerts (captured_at);
-- Retention finds subjects past their expiry.
CREATE INDEX subjects_expires_at_idx ON subjects (expires_at) WHERE expires_at IS NOT NULL;
