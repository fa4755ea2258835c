-- Templates at rest are rotated by secret orthogonal matrices derived from a template key, itself
-- derived from the data key, which the database never holds. template_key_id names the key (first
-- bytes of its SHA-256); rows from before this migration have none and are read in the clear.
ALTER TABLE embeddings ADD COLUMN template_key_id text;

-- A deployment's snapshot is rotated with its own salt: unlinkable to the store and to every other
-- deployment. The salt goes with the snapshot, after which no key can map the deployment's
-- templates again. template_key_id lets a matcher holding another key refuse instead of matching noise.
ALTER TABLE deployments ADD COLUMN template_salt bytea;
ALTER TABLE deployments ADD COLUMN template_key_id text;

CREATE FUNCTION vigil_forget_template_salt() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.snapshot_destroyed_at IS NOT NULL THEN
    NEW.template_salt := NULL;
  END IF;
  RETURN NEW;
END
$$;

CREATE TRIGGER deployments_forget_template_salt
  BEFORE UPDATE OF snapshot_destroyed_at ON deployments
  FOR EACH ROW EXECUTE FUNCTION vigil_forget_template_salt();
