-- The matcher's cooldown check: the newest alert for a camera and subject within a deployment.
CREATE INDEX alerts_cooldown_idx ON alerts (deployment_id, camera_id, subject_id, captured_at DESC);
-- Snapshot lookups filter on deployment and model together.
CREATE INDEX snapshot_entries_deployment_model_idx ON snapshot_entries (deployment_id, model);
