-- Community policies (versioned) and the durable schedule of reminders,
-- expiries and escalations. Keep in step with the other backend's file.

CREATE TABLE site_policies (
    site_id TEXT NOT NULL REFERENCES sites(id),
    version BIGINT NOT NULL,
    body TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    PRIMARY KEY (site_id, version)
);

-- One row per parcel waiting in a compartment. next_ms is when the scheduler
-- must look at it again (NULL: nothing left to do).
CREATE TABLE parcel_schedule (
    parcel_id TEXT PRIMARY KEY REFERENCES parcels(id),
    site_id TEXT NOT NULL,
    deposited_ms BIGINT NOT NULL,
    next_ms BIGINT,
    -- JSON array of the reminder rules already sent.
    reminded TEXT NOT NULL,
    escalated BIGINT NOT NULL DEFAULT 0,
    -- Hold time granted so far, and since when the current hold runs.
    hold_ms BIGINT NOT NULL DEFAULT 0,
    hold_since_ms BIGINT
);
CREATE INDEX parcel_schedule_due ON parcel_schedule(next_ms);

-- A message is not delivered before this instant (quiet hours).
ALTER TABLE outbox ADD COLUMN not_before_ms BIGINT;
