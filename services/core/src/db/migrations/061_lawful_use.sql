-- Two-person verification, the log of each use, and threshold calibration figures (issue #24).
-- Existing deployments keep working unchanged: verification is off until an administrator turns it
-- on, and the use log starts with this migration (earlier uses are on the audit trail).

-- A deployment that requires two different operators to confirm an alert before it is acted on.
ALTER TABLE deployments ADD COLUMN two_person_verification boolean NOT NULL DEFAULT false;

-- Each operator's confirmation of an alert on such a deployment. Deleted with the alert; the use log
-- keeps who verified it and when.
CREATE TABLE alert_verifications (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  alert_id bigint NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
  user_id uuid REFERENCES users (id) ON DELETE SET NULL,
  username text NOT NULL,
  note text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (alert_id, user_id)
);
CREATE INDEX alert_verifications_alert_idx ON alert_verifications (alert_id);

-- The log of each use of a deployment: start (the snapshot checked: size, SHA-256, model,
-- threshold), threshold changes, stop, each alert with the input that led to it (camera, capture
-- time, score, the watchlist entry matched, the sealed crop's digest) and each verification and
-- outcome with who gave it. No image and no embedding: it outlives the alerts and crops
-- (VIGIL_ALERT_RETENTION_DAYS) and is kept for VIGIL_USE_LOG_RETENTION_DAYS. alert_id has no
-- foreign key because the row outlives its alert.
CREATE TABLE deployment_use_log (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  deployment_id uuid NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
  at timestamptz NOT NULL DEFAULT now(),
  event text NOT NULL CHECK (event IN (
    'started', 'stopped', 'threshold_changed', 'verification_required', 'snapshot_destroyed',
    'alert', 'verification', 'outcome')),
  alert_id bigint,
  details jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX deployment_use_log_deployment_idx ON deployment_use_log (deployment_id, id);
CREATE INDEX deployment_use_log_at_idx ON deployment_use_log (at);

-- Written by triggers so that every writer (the API, the matcher in its own process, retention)
-- leaves the same record without each having to remember to.
CREATE FUNCTION vigil_use_log_deployment() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  snapshot record;
BEGIN
  IF NEW.status = 'running' AND OLD.status IS DISTINCT FROM 'running' THEN
    SELECT count(*) AS entries, count(DISTINCT subject_id) AS subjects,
           encode(sha256(convert_to(coalesce(string_agg(
             subject_id::text || ':' || reference_image_id::text || ':' || model || ':' || embedding::text,
             ';' ORDER BY subject_id, reference_image_id), ''), 'UTF8')), 'hex') AS digest
      INTO snapshot FROM snapshot_entries WHERE deployment_id = NEW.id;
    INSERT INTO deployment_use_log (deployment_id, event, details) VALUES (NEW.id, 'started',
      jsonb_build_object('model', NEW.model, 'threshold', round(NEW.threshold::numeric, 6),
        'snapshotEntries', snapshot.entries, 'snapshotSubjects', snapshot.subjects,
        'snapshotSha256', snapshot.digest, 'twoPersonVerification', NEW.two_person_verification));
  END IF;
  IF OLD.status = 'running' AND NEW.status IS DISTINCT FROM 'running' THEN
    INSERT INTO deployment_use_log (deployment_id, event, details)
      VALUES (NEW.id, 'stopped', jsonb_build_object('status', NEW.status));
  END IF;
  IF NEW.threshold IS DISTINCT FROM OLD.threshold THEN
    INSERT INTO deployment_use_log (deployment_id, event, details) VALUES (NEW.id, 'threshold_changed',
      jsonb_build_object('from', round(OLD.threshold::numeric, 6), 'to', round(NEW.threshold::numeric, 6),
        'status', NEW.status));
  END IF;
  IF NEW.two_person_verification IS DISTINCT FROM OLD.two_person_verification THEN
    INSERT INTO deployment_use_log (deployment_id, event, details) VALUES (NEW.id, 'verification_required',
      jsonb_build_object('required', NEW.two_person_verification, 'status', NEW.status));
  END IF;
  IF OLD.snapshot_destroyed_at IS NULL AND NEW.snapshot_destroyed_at IS NOT NULL THEN
    INSERT INTO deployment_use_log (deployment_id, event, details) VALUES (NEW.id, 'snapshot_destroyed', '{}');
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER deployments_use_log AFTER UPDATE ON deployments
  FOR EACH ROW EXECUTE FUNCTION vigil_use_log_deployment();

CREATE FUNCTION vigil_use_log_alert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO deployment_use_log (deployment_id, at, event, alert_id, details) VALUES (
    NEW.deployment_id, NEW.created_at, 'alert', NEW.id,
    jsonb_build_object('cameraId', NEW.camera_id, 'subjectId', NEW.subject_id,
      'referenceImageId', NEW.reference_image_id, 'category', NEW.category, 'priority', NEW.priority,
      'score', round(NEW.score::numeric, 4), 'threshold', round(NEW.threshold::numeric, 4),
      'capturedAt', NEW.captured_at,
      'probeSha256', CASE WHEN NEW.encrypted_probe IS NULL THEN NULL
                          ELSE encode(sha256(NEW.encrypted_probe), 'hex') END));
  RETURN NULL;
END;
$$;
CREATE TRIGGER alerts_use_log AFTER INSERT ON alerts FOR EACH ROW EXECUTE FUNCTION vigil_use_log_alert();

CREATE FUNCTION vigil_use_log_decision() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  deployment uuid;
  who text;
BEGIN
  SELECT deployment_id INTO deployment FROM alerts WHERE id = NEW.alert_id;
  SELECT username INTO who FROM users WHERE id = NEW.user_id;
  IF TG_TABLE_NAME = 'alert_verifications' THEN
    INSERT INTO deployment_use_log (deployment_id, at, event, alert_id, details) VALUES (
      deployment, NEW.created_at, 'verification', NEW.alert_id,
      jsonb_build_object('userId', NEW.user_id, 'username', coalesce(who, NEW.username), 'decision', 'confirmed'));
  ELSE
    INSERT INTO deployment_use_log (deployment_id, at, event, alert_id, details) VALUES (
      deployment, NEW.created_at, 'outcome', NEW.alert_id,
      jsonb_build_object('userId', NEW.user_id, 'username', coalesce(who, ''), 'outcome', NEW.outcome));
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER adjudications_use_log AFTER INSERT ON adjudications
  FOR EACH ROW EXECUTE FUNCTION vigil_use_log_decision();
CREATE TRIGGER alert_verifications_use_log AFTER INSERT ON alert_verifications
  FOR EACH ROW EXECUTE FUNCTION vigil_use_log_decision();

-- False match rates per threshold measured for a model (`vigil calibrate --json`), from which the
-- published record states the false alerts to expect at a deployment's threshold and list size.
CREATE TABLE threshold_calibrations (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  model text NOT NULL,
  dataset text NOT NULL DEFAULT '',
  non_mated_comparisons bigint NOT NULL CHECK (non_mated_comparisons > 0),
  -- [{"threshold": t, "fmr": f, "tpir": p?}], thresholds ascending.
  rows jsonb NOT NULL,
  created_by uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX threshold_calibrations_model_idx ON threshold_calibrations (model, id);
