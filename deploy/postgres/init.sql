-- Run once by a superuser on a new Vigil database (deploy/compose mounts it in
-- /docker-entrypoint-initdb.d; elsewhere: psql -v ON_ERROR_STOP=1 -d vigil -f init.sql).
-- Idempotent: running it again changes nothing.
--
--   vigil_migrate  owns the schema; `vigil migrate` runs as it (DATABASE_URL of the migrate job).
--   vigil_app      the API role (VIGIL_MIGRATE=false): reads and writes rows, creates nothing,
--                  and may only INSERT into audit_log and read it.
--   vigil_ingest, vigil_detector, vigil_embedder, vigil_matcher
--                  one per pipeline role, each granted only the tables its code touches (see
--                  vigil_grant_worker_roles below): none may read users or write sessions, so a
--                  compromised worker can neither read password hashes nor forge a login token.
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
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'vigil_ingest') THEN
    CREATE ROLE vigil_ingest LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'vigil_detector') THEN
    CREATE ROLE vigil_detector LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'vigil_embedder') THEN
    CREATE ROLE vigil_embedder LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'vigil_matcher') THEN
    CREATE ROLE vigil_matcher LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
  END IF;
END
$$;

-- Only the migration role may create objects in the schema.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE, CREATE ON SCHEMA public TO vigil_migrate;
GRANT USAGE ON SCHEMA public TO vigil_app, vigil_ingest, vigil_detector, vigil_embedder, vigil_matcher;
DO $$
BEGIN
  EXECUTE format(
    'GRANT CONNECT ON DATABASE %I TO vigil_migrate, vigil_app, vigil_ingest, vigil_detector, vigil_embedder, vigil_matcher',
    current_database());
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

-- The pipeline roles' grants, table by table: exactly what each role's code reads and writes.
--   ingest    the cameras of running deployments (camera leases are advisory locks: no table)
--   detector  hourly frame counters
--   embedder  nothing but the schema version
--   matcher   the deployment's snapshot, its alerts (insert, mark published), hourly counters,
--             the use log entry each alert's trigger writes
-- Applied now for tables that exist and, by the event trigger below, whenever a migration creates
-- or alters one, so the grants follow the schema without a step to remember.
CREATE OR REPLACE FUNCTION vigil_grant_worker_roles() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  entry record;
BEGIN
  FOR entry IN
    SELECT * FROM (VALUES
      ('vigil_ingest', 'schema_migrations', 'SELECT'),
      ('vigil_ingest', 'deployments', 'SELECT'),
      ('vigil_ingest', 'cameras', 'SELECT'),
      ('vigil_detector', 'schema_migrations', 'SELECT'),
      ('vigil_detector', 'deployments', 'SELECT'),
      ('vigil_detector', 'deployment_counters', 'SELECT, INSERT, UPDATE'),
      ('vigil_embedder', 'schema_migrations', 'SELECT'),
      ('vigil_matcher', 'schema_migrations', 'SELECT'),
      ('vigil_matcher', 'deployments', 'SELECT'),
      ('vigil_matcher', 'snapshot_entries', 'SELECT'),
      ('vigil_matcher', 'alerts', 'SELECT, INSERT, UPDATE (published_at)'),
      ('vigil_matcher', 'deployment_counters', 'SELECT, INSERT, UPDATE'),
      -- Migration 061's trigger records each alert in the deployment's use log.
      ('vigil_matcher', 'deployment_use_log', 'INSERT')
    ) AS grants (role_name, table_name, privileges)
  LOOP
    IF to_regclass('public.' || entry.table_name) IS NOT NULL THEN
      BEGIN
        EXECUTE format('GRANT %s ON public.%I TO %I', entry.privileges, entry.table_name, entry.role_name);
      EXCEPTION WHEN undefined_column THEN
        -- A migration before the one adding the column: the grant follows when that one runs.
        NULL;
      END;
    END IF;
  END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION vigil_grant_worker_roles_on_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM vigil_grant_worker_roles();
END
$$;
DROP EVENT TRIGGER IF EXISTS vigil_grant_worker_roles;
CREATE EVENT TRIGGER vigil_grant_worker_roles ON ddl_command_end
  WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE')
  EXECUTE FUNCTION vigil_grant_worker_roles_on_ddl();

SELECT vigil_grant_worker_roles();
