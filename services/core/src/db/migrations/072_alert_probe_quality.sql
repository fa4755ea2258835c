-- One alert per person passing, with the best crop: how good the view behind an alert's crop was
-- (viewQuality: confidence, size, sharpness, pose), so a clearly better later view of the same
-- track replaces it. Null for alerts stored before: any later view of their track may replace them.
ALTER TABLE alerts ADD COLUMN probe_quality real;
