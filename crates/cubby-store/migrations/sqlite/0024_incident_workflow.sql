-- Incidents as a workflow: who acknowledged an incident and when, whom it
-- is assigned to (a staff token), who resolved it and why, and the comments
-- staff leave. Keep in step with the other backend.

ALTER TABLE incidents ADD COLUMN acknowledged_ms INTEGER;
ALTER TABLE incidents ADD COLUMN acknowledged_by TEXT;
ALTER TABLE incidents ADD COLUMN assigned_to TEXT;
ALTER TABLE incidents ADD COLUMN assigned_ms INTEGER;
ALTER TABLE incidents ADD COLUMN resolved_by TEXT;
ALTER TABLE incidents ADD COLUMN resolve_reason TEXT;

CREATE TABLE incident_comments (
    id TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents(id),
    actor TEXT NOT NULL,
    text TEXT NOT NULL,
    at_ms INTEGER NOT NULL
);
CREATE INDEX incident_comments_incident ON incident_comments(incident_id, at_ms);
