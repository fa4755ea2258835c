-- Issue 26: how much of a deployment was actually watched. Per camera and hour, the frames ingest
-- read, and the frames never analysed by reason (queue_full, publish_failed, detector_busy,
-- detector_unavailable). Counts only, like deployment_counters; rows from before this migration
-- read 0 frames, which the statistics treat as "not recorded".
ALTER TABLE deployment_counters ADD COLUMN frames_read bigint NOT NULL DEFAULT 0;

CREATE TABLE deployment_frames_not_analysed (
  deployment_id uuid NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
  camera_id uuid NOT NULL,
  hour timestamptz NOT NULL,
  reason text NOT NULL CHECK (reason ~ '^[a-z_]{1,40}$'),
  frames bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (deployment_id, camera_id, hour, reason)
);
