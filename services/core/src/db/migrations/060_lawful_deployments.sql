-- Lawful deployments (issue 24, items 1 and 2): authorising officers, a deployment's purpose and legal
-- basis, its authorisation requests and decisions, and each watchlist subject's provenance, approval
-- and review date. docs/lawful-deployments.md is the upgrade note for existing rows.

-- Authorising officers: a role of its own, separate from admin, so the one who asks cannot grant.
ALTER TABLE users DROP CONSTRAINT IF EXISTS users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
  CHECK (role IN ('admin', 'watchlist_manager', 'operator', 'oversight', 'authoriser'));

ALTER TABLE deployments ADD COLUMN purpose text NOT NULL DEFAULT '';
ALTER TABLE deployments ADD COLUMN legal_basis text NOT NULL DEFAULT '';
-- Why a stopped deployment stopped; NULL for deployments stopped before this migration.
ALTER TABLE deployments ADD COLUMN stop_reason text
  CHECK (stop_reason IN ('manual', 'window_ended', 'authorisation_refused', 'authorisation_lapsed'));
-- Numbers per category and priority of the snapshot frozen at start, and of the entries left out:
-- {"subjects","byCategory":{...},"byPriority":{...},"excluded":{"notApproved","reviewOverdue"}}; no names.
ALTER TABLE deployments ADD COLUMN watchlist_composition jsonb;
-- When a refused or lapsed authorisation deleted the snapshot, alerts and crops.
ALTER TABLE deployments ADD COLUMN purged_at timestamptz;

-- One row per request for authorisation, with the terms as requested and the authorising officer's
-- decision. status: pending (no decision yet), granted, refused, lapsed (an urgent start's deadline
-- passed without a decision), withdrawn (the terms changed after the request), migrated (a deployment
-- already running when migration 060 was applied; see the upgrade note).
CREATE TABLE deployment_authorisations (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  deployment_id uuid NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
  status text NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'granted', 'refused', 'lapsed', 'withdrawn', 'migrated')),
  urgent boolean NOT NULL DEFAULT false,
  requested_by uuid REFERENCES users (id) ON DELETE SET NULL,
  requested_at timestamptz NOT NULL DEFAULT now(),
  -- Urgent requests only: the deployment may start at once, and stops with its data deleted if no
  -- decision is recorded by then.
  decision_due_at timestamptz,
  purpose text NOT NULL DEFAULT '',
  legal_basis text NOT NULL DEFAULT '',
  location text NOT NULL DEFAULT '',
  starts_at timestamptz,
  ends_at timestamptz,
  threshold real NOT NULL,
  watchlist_ids uuid[] NOT NULL DEFAULT '{}',
  -- The watchlist as the authoriser approves it: the same shape as deployments.watchlist_composition.
  composition jsonb NOT NULL DEFAULT '{}'::jsonb,
  decided_by uuid REFERENCES users (id) ON DELETE SET NULL,
  decided_at timestamptz,
  rationale text NOT NULL DEFAULT '',
  CONSTRAINT deployment_authorisations_two_people
    CHECK (decided_by IS NULL OR requested_by IS NULL OR decided_by <> requested_by)
);
CREATE INDEX deployment_authorisations_deployment_idx ON deployment_authorisations (deployment_id, requested_at);
CREATE INDEX deployment_authorisations_pending_idx ON deployment_authorisations (decision_due_at)
  WHERE status = 'pending';

-- The subjects an authorisation covers: the snapshot is frozen from these alone, so an entry added
-- after the request is not matched until a new authorisation covers it.
CREATE TABLE authorisation_subjects (
  authorisation_id uuid NOT NULL REFERENCES deployment_authorisations (id) ON DELETE CASCADE,
  subject_id uuid NOT NULL REFERENCES subjects (id) ON DELETE CASCADE,
  PRIMARY KEY (authorisation_id, subject_id)
);

-- Deployments running at upgrade carry on under a record that says so; planned ones need a request.
INSERT INTO deployment_authorisations
  (deployment_id, status, requested_by, requested_at, location, starts_at, ends_at, threshold, watchlist_ids, rationale)
SELECT d.id, 'migrated', d.created_by, now(), d.location, d.started_at, d.ends_at, d.threshold,
       ARRAY(SELECT dw.watchlist_id FROM deployment_watchlists dw WHERE dw.deployment_id = d.id),
       'running before authorisation was recorded (migration 060)'
  FROM deployments d WHERE d.status = 'running';

-- Provenance: why the subject is on the list (the category's criteria they meet), the image's source
-- (the existing `source` column) and date, who approved the entry (never who added it), and when it
-- must be reviewed. Existing subjects have no approval: they stay on their lists and are left out of
-- snapshots until someone records their provenance and approves them.
ALTER TABLE subjects ADD COLUMN reason text NOT NULL DEFAULT '';
ALTER TABLE subjects ADD COLUMN image_taken_on date;
ALTER TABLE subjects ADD COLUMN approved_by uuid REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE subjects ADD COLUMN approved_at timestamptz;
ALTER TABLE subjects ADD COLUMN review_by date;
ALTER TABLE subjects ADD CONSTRAINT subjects_approver_not_adder
  CHECK (approved_by IS NULL OR added_by IS NULL OR approved_by <> added_by);
