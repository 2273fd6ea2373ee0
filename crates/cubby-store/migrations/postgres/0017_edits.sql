-- Edits with optimistic concurrency: a resident's and a locker's row carry
-- a version, raised by every edit; an edit names the version it read.
-- Compartments taken out of service say why. Keep in step with the other
-- backend.

ALTER TABLE residents ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE lockers ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE compartments ADD COLUMN status_reason TEXT;
