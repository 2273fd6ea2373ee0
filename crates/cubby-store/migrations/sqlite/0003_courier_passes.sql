-- Courier passes: a courier deposits pre-advised parcels of one carrier at one
-- locker with a code, decided at the locker even when it is offline.
-- Keep in step with the other backend's file of the same name.

CREATE TABLE courier_passes (
    id TEXT PRIMARY KEY,
    locker_id TEXT NOT NULL REFERENCES lockers(id),
    carrier TEXT NOT NULL,
    -- MAC of the code under the locker's own key (the agent's cache holds it).
    local_mac BLOB NOT NULL,
    created_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX courier_passes_locker ON courier_passes(locker_id, expires_ms);
