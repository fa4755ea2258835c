-- Vigil's schema. One history for PostgreSQL 15+ (pgvector) and PGlite; the same SQL on both.
CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE users (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  username text NOT NULL UNIQUE CHECK (length(username) BETWEEN 1 AND 64),
  password_hash text NOT NULL,
  role text NOT NULL CHECK (role IN ('admin', 'watchlist_manager', 'operator', 'oversight')),
  disabled boolean NOT NULL DEFAULT false,
  failed_logins integer NOT NULL DEFAULT 0,
  locked_until timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Opaque bearer tokens, stored as SHA-256 hashes so a database dump holds no usable token.
CREATE TABLE sessions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  token_hash text NOT NULL UNIQUE,
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE watchlists (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  description text NOT NULL DEFAULT '',
  created_by uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE subjects (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  watchlist_id uuid NOT NULL REFERENCES watchlists (id) ON DELETE CASCADE,
  label text NOT NULL CHECK (length(label) BETWEEN 1 AND 200),
  category text NOT NULL CHECK (category IN ('wanted', 'suspect', 'missing', 'vulnerable', 'other')),
  priority text NOT NULL CHECK (priority IN ('red', 'amber', 'green')),
  notes text NOT NULL DEFAULT '',
  source text NOT NULL DEFAULT '',
  legal_basis text NOT NULL DEFAULT '',
  added_by uuid REFERENCES users (id) ON DELETE SET NULL,
  expires_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX subjects_watchlist_idx ON subjects (watchlist_id);

-- Reference images, AES-256-GCM encrypted with a key that never enters the database.
CREATE TABLE reference_images (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  subject_id uuid NOT NULL REFERENCES subjects (id) ON DELETE CASCADE,
  watchlist_id uuid NOT NULL REFERENCES watchlists (id) ON DELETE CASCADE,
  content_hash text NOT NULL,
  mime_type text NOT NULL,
  width integer NOT NULL,
  height integer NOT NULL,
  quality jsonb NOT NULL,
  encrypted_data bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (watchlist_id, content_hash)
);
CREATE INDEX reference_images_subject_idx ON reference_images (subject_id);

-- One row per (image, model): two model profiles can coexist; dimension varies by model.
CREATE TABLE embeddings (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  reference_image_id uuid NOT NULL REFERENCES reference_images (id) ON DELETE CASCADE,
  subject_id uuid NOT NULL REFERENCES subjects (id) ON DELETE CASCADE,
  model text NOT NULL,
  embedding vector NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (reference_image_id, model)
);
CREATE INDEX embeddings_subject_idx ON embeddings (subject_id);

CREATE TABLE deployments (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  location text NOT NULL DEFAULT '',
  threshold real NOT NULL,
  model text NOT NULL,
  status text NOT NULL DEFAULT 'planned' CHECK (status IN ('planned', 'running', 'stopped')),
  starts_at timestamptz,
  ends_at timestamptz,
  started_at timestamptz,
  stopped_at timestamptz,
  snapshot_destroy_after timestamptz,
  snapshot_destroyed_at timestamptz,
  created_by uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE deployment_watchlists (
  deployment_id uuid NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
  watchlist_id uuid NOT NULL REFERENCES watchlists (id) ON DELETE CASCADE,
  PRIMARY KEY (deployment_id, watchlist_id)
);

-- Operators (and officers) who receive a deployment's alerts.
CREATE TABLE deployment_operators (
  deployment_id uuid NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  PRIMARY KEY (deployment_id, user_id)
);

CREATE TABLE cameras (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  deployment_id uuid NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  url text NOT NULL,
  fps real NOT NULL DEFAULT 10,
  realtime boolean NOT NULL DEFAULT true,
  loop boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cameras_deployment_idx ON cameras (deployment_id);

-- The watchlist frozen when a deployment starts: the only embeddings the matcher searches.
CREATE TABLE snapshot_entries (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  deployment_id uuid NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
  subject_id uuid NOT NULL,
  reference_image_id uuid NOT NULL,
  label text NOT NULL,
  category text NOT NULL,
  priority text NOT NULL,
  model text NOT NULL,
  embedding vector NOT NULL
);
CREATE INDEX snapshot_entries_deployment_idx ON snapshot_entries (deployment_id);

-- Non-biometric record of who was on each deployment's list, kept for subject-access requests.
CREATE TABLE deployment_subject_log (
  deployment_id uuid NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
  subject_id uuid NOT NULL,
  watchlist_id uuid NOT NULL,
  label text NOT NULL,
  category text NOT NULL,
  priority text NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (deployment_id, subject_id)
);

CREATE TABLE alerts (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  deployment_id uuid NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
  camera_id uuid NOT NULL,
  subject_id uuid NOT NULL,
  reference_image_id uuid,
  track_id text NOT NULL,
  label text NOT NULL,
  category text NOT NULL,
  priority text NOT NULL,
  score real NOT NULL,
  threshold real NOT NULL,
  captured_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- The probe face crop, AES-256-GCM encrypted like reference images.
  encrypted_probe bytea,
  -- Set by the matcher so a redelivered message stores the alert once.
  dedupe_key text NOT NULL UNIQUE
);
CREATE INDEX alerts_deployment_idx ON alerts (deployment_id, id);

CREATE TABLE adjudications (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  alert_id bigint NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
  user_id uuid REFERENCES users (id) ON DELETE SET NULL,
  outcome text NOT NULL CHECK (outcome IN ('confirmed', 'false_alert', 'not_stopped', 'engaged', 'arrested')),
  note text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX adjudications_alert_idx ON adjudications (alert_id);

-- Counts per deployment, camera and hour: the only trace a face that matched nothing leaves.
CREATE TABLE deployment_counters (
  deployment_id uuid NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
  camera_id uuid NOT NULL,
  hour timestamptz NOT NULL,
  frames bigint NOT NULL DEFAULT 0,
  faces_processed bigint NOT NULL DEFAULT 0,
  faces_matched bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (deployment_id, camera_id, hour)
);

-- Hash-chained audit trail: each row's hash covers its content and the previous row's hash.
CREATE TABLE audit_log (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  actor_id uuid,
  actor_name text NOT NULL DEFAULT '',
  action text NOT NULL,
  target_type text NOT NULL DEFAULT '',
  target_id text NOT NULL DEFAULT '',
  details jsonb NOT NULL DEFAULT '{}'::jsonb,
  prev_hash text NOT NULL,
  hash text NOT NULL
);
CREATE INDEX audit_log_action_idx ON audit_log (action);
