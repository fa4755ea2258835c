-- The audit trail is append-only for the application: UPDATE, DELETE and TRUNCATE on audit_log are
-- refused unless the transaction has said `SET LOCAL vigil.audit_maintenance = on` (a deliberate,
-- documented act, e.g. archiving a trail under a court order). A superuser can still disable the
-- triggers; the hash chain is what catches that (`npx vigil audit verify`).
CREATE FUNCTION vigil_audit_log_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF coalesce(current_setting('vigil.audit_maintenance', true), '') = 'on' THEN
    IF TG_LEVEL = 'ROW' AND TG_OP = 'DELETE' THEN
      RETURN OLD;
    END IF;
    IF TG_LEVEL = 'ROW' THEN
      RETURN NEW;
    END IF;
    RETURN NULL;
  END IF;
  RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP
    USING ERRCODE = 'insufficient_privilege', HINT = 'SET LOCAL vigil.audit_maintenance = on';
END;
$$;

CREATE TRIGGER audit_log_no_update_delete
  BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION vigil_audit_log_guard();

CREATE TRIGGER audit_log_no_truncate
  BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION vigil_audit_log_guard();
