-- Failed-login counts shared by every API process and kept across restarts, so replicas cannot be
-- played off against each other and a restart forgets nothing. A key is an HMAC of the account
-- and/or address under a key derived from the data key: the table names no account and no address.
CREATE TABLE IF NOT EXISTS login_throttle (
  key_hash bytea PRIMARY KEY,
  failures integer NOT NULL DEFAULT 0,
  -- Attempts whose password check has not finished (counted before the check).
  in_flight integer NOT NULL DEFAULT 0,
  -- When the latest attempt began: an attempt in flight longer than a minute is presumed lost.
  began_at timestamptz NOT NULL,
  -- The latest failure (or, before any, the first attempt): the key is forgotten an hour after it.
  last_failure_at timestamptz NOT NULL,
  -- When the next attempt may begin, once the free attempts are spent.
  wait_until timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS login_throttle_last_failure_at ON login_throttle (last_failure_at);
