-- The scene kept with an alert: the frame it came from, downscaled, the matched face boxed and every
-- other face blurred inside the detector before it left that process, then sealed (AES-256-GCM,
-- bound to the row by alertSceneContext(dedupe_key)) like the probe crop. A column of the alert's
-- row, so whatever deletes the alert (retention, a refused authorisation, a subject's deletion)
-- deletes its scene in the same statement. Null when no detector still held the frame.
ALTER TABLE alerts ADD COLUMN encrypted_scene bytea;
