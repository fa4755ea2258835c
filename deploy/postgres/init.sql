-- Run once by a superuser on a new Vigil database (deploy/compose mounts it in
-- /docker-entrypoint-initdb.d; elsewhere: psql -v ON_ERROR_STOP=1 -d vigil -f init.sql).
-- Idempotent: running it again changes nothing.
--
--   vigil_migrate  owns the schema; `vigil migrate` runs as it (DATABASE_URL of the migrate job).
--   vigil_app      what every Vigil role runs as (VIGIL_MIGRATE=false): reads and writes rows,
--                  creates nothing, and may only INSERT into audit_log and read it.
-- Passwords are set apart from this file (set-passwords.sh, or ALTER ROLE ... PASSWORD).

CREATE EXTENSION IF NOT EXISTS vector;

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'vigil_migrate') THEN
    CREATE ROLE vigil_migrate LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'vigil_app') THEN
    CREATE ROLE vigil_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
  END IF;
END
$$;

-- Only the migration role may create objects in the schema.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE, CREATE ON SCHEMA public TO vigil_migrate;
GRANT USAGE ON SCHEMA public TO vigil_app;
DO $$
BEGIN
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO vigil_migrate, vigil_app', current_database());
END
$$;

-- Tables the migration role creates are usable by the application role (no TRUNCATE, no DDL).
ALTER DEFAULT PRIVILEGES FOR ROLE vigil_migrate IN SCHEMA public
  GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO vigil_app;
ALTER DEFAULT PRIVILEGES FOR ROLE vigil_migrate IN SCHEMA public
  GRANT USAGE, SELECT ON SEQUENCES TO vigil_app;
ALTER DEFAULT PRIVILEGES FOR ROLE vigil_migrate IN SCHEMA public
  GRANT EXECUTE ON FUNCTIONS TO vigil_app;

-- The audit trail is append-only for the application: whenever the migrations create (or
-- re-create) audit_log, UPDATE, DELETE and TRUNCATE are taken back from vigil_app at once. Migration
-- 040's trigger refuses them too; the hash chain (`vigil audit verify`) catches a superuser.
CREATE OR REPLACE FUNCTION vigil_lock_audit_log() RETURNS event_trigger LANGUAGE plpgsql AS $$
DECLARE
  command record;
BEGIN
  FOR command IN SELECT * FROM pg_event_trigger_ddl_commands() LOOP
    IF command.object_type = 'table' AND command.object_identity IN ('public.audit_log', 'audit_log') THEN
      REVOKE UPDATE, DELETE, TRUNCATE ON public.audit_log FROM vigil_app;
      GRANT SELECT, INSERT ON public.audit_log TO vigil_app;
    END IF;
  END LOOP;
END
$$;
DROP EVENT TRIGGER IF EXISTS vigil_lock_audit_log;
CREATE EVENT TRIGGER vigil_lock_audit_log ON ddl_command_end
  WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE')
  EXECUTE FUNCTION vigil_lock_audit_log();

-- On a database migrated before this file ran: lock the existing table now.
DO $$
BEGIN
  IF to_regclass('public.audit_log') IS NOT NULL THEN
    REVOKE UPDATE, DELETE, TRUNCATE ON public.audit_log FROM vigil_app;
    GRANT SELECT, INSERT ON public.audit_log TO vigil_app;
  END IF;
END
$$;
