-- Incidents as a workflow: who acknowledged an incident and when, whom it
-- is assigned to (a staff token), who resolved it and why, and the comments
-- staff leave. A cause that recurs at the same place while its incident is
-- open is folded into it: a count and when it last happened. Keep in step
-- with the other backend.

ALTER TABLE incidents ADD COLUMN acknowledged_ms INTEGER;
ALTER TABLE incidents ADD COLUMN acknowledged_by TEXT;
ALTER TABLE incidents ADD COLUMN assigned_to TEXT;
ALTER TABLE incidents ADD COLUMN assigned_ms INTEGER;
ALTER TABLE incidents ADD COLUMN resolved_by TEXT;
ALTER TABLE incidents ADD COLUMN resolve_reason TEXT;
ALTER TABLE incidents ADD COLUMN occurrences INTEGER NOT NULL DEFAULT 1;
ALTER TABLE incidents ADD COLUMN last_ms INTEGER;

CREATE TABLE incident_comments (
    id TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents(id),
    actor TEXT NOT NULL,
    text TEXT NOT NULL,
    at_ms INTEGER NOT NULL
);
CREATE INDEX incident_comments_incident ON incident_comments(incident_id, at_ms);
