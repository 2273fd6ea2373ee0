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
    id BIGINT PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL,
    hash BYTEA NOT NULL
);
INSERT INTO security_floor (id, seq, hash) VALUES (1, 0, decode(repeat('00', 32), 'hex'));

DROP TRIGGER security_events_no_change ON security_events;
CREATE TRIGGER security_events_no_update BEFORE UPDATE ON security_events
FOR EACH ROW EXECUTE FUNCTION security_events_append_only();
CREATE FUNCTION security_events_above_floor() RETURNS trigger AS $$
BEGIN
    IF OLD.seq > (SELECT seq FROM security_floor WHERE id = 1) THEN
        RAISE EXCEPTION 'security audit events are append-only: only retention deletes them, up to its floor';
    END IF;
    RETURN OLD;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER security_events_no_delete BEFORE DELETE ON security_events
FOR EACH ROW EXECUTE FUNCTION security_events_above_floor();

CREATE FUNCTION security_floor_forward() RETURNS trigger AS $$
BEGIN
    IF TG_OP <> 'UPDATE' OR NEW.seq <= OLD.seq
       OR NEW.hash IS DISTINCT FROM (SELECT hash FROM security_events WHERE seq = NEW.seq) THEN
        RAISE EXCEPTION 'the security audit floor only moves forward, to an event that exists';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER security_floor_moves_forward BEFORE UPDATE OR DELETE ON security_floor
FOR EACH ROW EXECUTE FUNCTION security_floor_forward();
CREATE TRIGGER security_floor_no_truncate BEFORE TRUNCATE ON security_floor
FOR EACH STATEMENT EXECUTE FUNCTION security_events_append_only();

CREATE TABLE retention_runs (
    scope TEXT PRIMARY KEY,
    ran_ms BIGINT NOT NULL
);

ALTER TABLE sites ADD COLUMN address TEXT;
ALTER TABLE sites ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE buildings ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE doors ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE doors ADD COLUMN retired_ms BIGINT;
ALTER TABLE door_paths ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE couriers ADD COLUMN closed_ms BIGINT;
