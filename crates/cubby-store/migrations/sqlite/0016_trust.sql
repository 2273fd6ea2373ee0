-- Trust: the carriers each site lets deposit, the security audit log (one
-- hash chain for the installation, its head kept apart so that deleting
-- events from the end shows), and courier passes bound to one courier
-- account. Keep in step with the other backend.

CREATE TABLE site_carriers (
    site_id TEXT NOT NULL REFERENCES sites(id),
    carrier TEXT NOT NULL,
    enabled_by TEXT NOT NULL,
    enabled_ms INTEGER NOT NULL,
    PRIMARY KEY (site_id, carrier)
);

CREATE TABLE security_events (
    seq INTEGER PRIMARY KEY,
    at_ms INTEGER NOT NULL,
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    source TEXT NOT NULL,
    target TEXT NOT NULL,
    org_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    hash BLOB NOT NULL
);
CREATE INDEX security_events_action ON security_events(action, seq);

CREATE TABLE security_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    hash BLOB NOT NULL
);
INSERT INTO security_head (id, seq, hash) VALUES (1, 0, zeroblob(32));

ALTER TABLE courier_passes ADD COLUMN courier_id TEXT;

-- Opening several occupied compartments at once takes two staff members:
-- one asks (with a step-up), another approves (with their own).
CREATE TABLE bulk_opens (
    id TEXT PRIMARY KEY,
    locker_id TEXT NOT NULL REFERENCES lockers(id),
    labels TEXT NOT NULL,
    reason TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL,
    approved_by TEXT,
    approved_ms INTEGER
);

-- The security audit log is append-only, as custody is.
CREATE TRIGGER security_events_no_update BEFORE UPDATE ON security_events
BEGIN SELECT RAISE(ABORT, 'security audit events are append-only'); END;
CREATE TRIGGER security_events_no_delete BEFORE DELETE ON security_events
BEGIN SELECT RAISE(ABORT, 'security audit events are append-only'); END;
-- Its head only moves forward, one event at a time, to the hash of the
-- event it names, and is never deleted: resetting it would hide a
-- truncated log.
CREATE TRIGGER security_head_forward BEFORE UPDATE ON security_head
WHEN NEW.seq != OLD.seq + 1
  OR NEW.hash IS NOT (SELECT hash FROM security_events WHERE seq = NEW.seq)
BEGIN SELECT RAISE(ABORT, 'the security audit head only moves forward'); END;
CREATE TRIGGER security_head_no_delete BEFORE DELETE ON security_head
BEGIN SELECT RAISE(ABORT, 'the security audit head only moves forward'); END;
