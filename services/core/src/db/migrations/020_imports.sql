-- Bulk imports of subjects (a ZIP or server folder of images with a CSV of labels), run in the background.
CREATE TABLE imports (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  watchlist_id uuid NOT NULL REFERENCES watchlists (id) ON DELETE CASCADE,
  status text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'failed')),
  total integer NOT NULL,
  processed integer NOT NULL DEFAULT 0,
  enrolled integer NOT NULL DEFAULT 0,
  failed integer NOT NULL DEFAULT 0,
  -- Per-row failures: row number, label, code, message; no image data.
  errors jsonb NOT NULL DEFAULT '[]'::jsonb,
  error text,
  created_by uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz
);
CREATE INDEX imports_watchlist_idx ON imports (watchlist_id, created_at);
