-- Trust: the carriers each site lets deposit, the security audit log (one
-- hash chain for the installation, its head kept apart so that deleting
-- events from the end shows), and courier passes bound to one courier
-- account. Keep in step with the other backend.

CREATE TABLE site_carriers (
    site_id TEXT NOT NULL REFERENCES sites(id),
    carrier TEXT NOT NULL,
    enabled_by TEXT NOT NULL,
    enabled_ms BIGINT NOT NULL,
    PRIMARY KEY (site_id, carrier)
);

CREATE TABLE security_events (
    seq BIGINT PRIMARY KEY,
    at_ms BIGINT NOT NULL,
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    source TEXT NOT NULL,
    target TEXT NOT NULL,
    org_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    hash BYTEA NOT NULL
);
CREATE INDEX security_events_action ON security_events(action, seq);

CREATE TABLE security_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL,
    hash BYTEA NOT NULL
);
INSERT INTO security_head (id, seq, hash) VALUES (1, 0, decode(repeat('00', 32), 'hex'));

ALTER TABLE courier_passes ADD COLUMN courier_id TEXT;

-- Opening several occupied compartments at once takes two staff members:
-- one asks (with a step-up), another approves (with their own).
CREATE TABLE bulk_opens (
    id TEXT PRIMARY KEY,
    locker_id TEXT NOT NULL REFERENCES lockers(id),
    labels TEXT NOT NULL,
    reason TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_ms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL,
    approved_by TEXT,
    approved_ms BIGINT
);

-- The security audit log is append-only, as custody is.
CREATE FUNCTION security_events_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'security audit events are append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER security_events_no_change BEFORE UPDATE OR DELETE ON security_events
FOR EACH ROW EXECUTE FUNCTION security_events_append_only();
CREATE TRIGGER security_events_no_truncate BEFORE TRUNCATE ON security_events
FOR EACH STATEMENT EXECUTE FUNCTION security_events_append_only();

-- Its head only moves forward, one event at a time, to the hash of the
-- event it names, and is never deleted: resetting it would hide a
-- truncated log.
CREATE FUNCTION security_head_forward() RETURNS trigger AS $$
BEGIN
    IF TG_OP <> 'UPDATE' OR NEW.seq <> OLD.seq + 1
       OR NEW.hash IS DISTINCT FROM (SELECT hash FROM security_events WHERE seq = NEW.seq) THEN
        RAISE EXCEPTION 'the security audit head only moves forward';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER security_head_moves_forward BEFORE UPDATE OR DELETE ON security_head
FOR EACH ROW EXECUTE FUNCTION security_head_forward();
CREATE TRIGGER security_head_no_truncate BEFORE TRUNCATE ON security_head
FOR EACH STATEMENT EXECUTE FUNCTION security_events_append_only();
