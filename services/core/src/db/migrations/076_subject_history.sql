-- A subject's history: the audit rows about it, and the alerts it raised, newest first.
CREATE INDEX audit_log_target_idx ON audit_log (target_type, target_id, id);
CREATE INDEX alerts_subject_idx ON alerts (subject_id, captured_at);
