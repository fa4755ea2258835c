-- Who is handling an alert, so that two operators do not act on the same one: one row an alert,
-- taken by a claim and removed by its release. Deleted with the alert by the alert retention.
CREATE TABLE alert_claims (
  alert_id bigint PRIMARY KEY REFERENCES alerts (id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  claimed_at timestamptz NOT NULL DEFAULT now()
);
