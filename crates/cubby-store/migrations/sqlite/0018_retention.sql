-- Retention. The security audit log may lose events from its front only:
-- first its floor moves forward to an event that exists (the last one to
-- go), then the events up to the floor are deleted; verification starts
-- from the floor, so deleting anything after it still shows. Each retention
-- run is recorded per scope (a site, or the installation) so that several
-- instances run it once. Sites gain an address and, like the other places
-- staff edit, a version for optimistic concurrency; doors are retired and
-- courier accounts closed rather than deleted, since what happened at them
-- stays. Keep in step with the other backend.

CREATE TABLE security_floor (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    hash BLOB NOT NULL
);
INSERT INTO security_floor (id, seq, hash) VALUES (1, 0, zeroblob(32));

DROP TRIGGER security_events_no_delete;
CREATE TRIGGER security_events_no_delete BEFORE DELETE ON security_events
WHEN OLD.seq > (SELECT seq FROM security_floor WHERE id = 1)
BEGIN SELECT RAISE(ABORT, 'security audit events are append-only: only retention deletes them, up to its floor'); END;
CREATE TRIGGER security_floor_forward BEFORE UPDATE ON security_floor
WHEN NEW.seq <= OLD.seq
  OR NEW.hash IS NOT (SELECT hash FROM security_events WHERE seq = NEW.seq)
BEGIN SELECT RAISE(ABORT, 'the security audit floor only moves forward, to an event that exists'); END;
CREATE TRIGGER security_floor_no_delete BEFORE DELETE ON security_floor
BEGIN SELECT RAISE(ABORT, 'the security audit floor only moves forward, to an event that exists'); END;

CREATE TABLE retention_runs (
    scope TEXT PRIMARY KEY,
    ran_ms INTEGER NOT NULL
);

ALTER TABLE sites ADD COLUMN address TEXT;
ALTER TABLE sites ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE buildings ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE doors ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE doors ADD COLUMN retired_ms INTEGER;
ALTER TABLE door_paths ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE couriers ADD COLUMN closed_ms INTEGER;
