-- Officers on the ground: a role of their own that receives the alerts an operator passes to them
-- (and records what happened), without the deployment's live feed that operators watch.
ALTER TABLE users DROP CONSTRAINT IF EXISTS users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
  CHECK (role IN ('admin', 'watchlist_manager', 'operator', 'oversight', 'authoriser', 'officer'));
