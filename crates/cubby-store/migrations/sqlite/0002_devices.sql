-- Locker agents, their commands and journals, and incidents (device protocol v1).
-- Keep in step with the other backend's file of the same name.

-- The credential's MAC under the locker's own key, for the agent's offline cache.
ALTER TABLE pickup_credentials ADD COLUMN local_mac BLOB;

CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    locker_id TEXT NOT NULL REFERENCES lockers(id),
    secret_mac BLOB NOT NULL,
    created_ms INTEGER NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0,
    online INTEGER NOT NULL DEFAULT 0,
    status_ms INTEGER,
    last_seen_ms INTEGER,
    -- Last command sequence number signed for this device.
    cmd_seq INTEGER NOT NULL DEFAULT 0,
    -- Last credential cache version published to it.
    cache_version INTEGER NOT NULL DEFAULT 0,
    -- Head of its journal as stored here.
    journal_seq INTEGER NOT NULL DEFAULT 0,
    journal_hash TEXT NOT NULL,
    -- Last retained state snapshot, JSON.
    state TEXT
);
CREATE INDEX devices_locker ON devices(locker_id);

CREATE TABLE device_commands (
    id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL REFERENCES devices(id),
    tx_id TEXT NOT NULL,
    compartment_label TEXT NOT NULL,
    purpose TEXT NOT NULL,
    parcel_id TEXT,
    actor TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    seq INTEGER,
    expires_ms INTEGER,
    signed TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    detail TEXT,
    updated_ms INTEGER NOT NULL
);
CREATE INDEX device_commands_open ON device_commands(status, device_id);

CREATE TABLE device_events (
    device_id TEXT NOT NULL REFERENCES devices(id),
    seq INTEGER NOT NULL,
    at_ms INTEGER NOT NULL,
    kind TEXT NOT NULL,
    compartment_label TEXT,
    body TEXT NOT NULL,
    hash TEXT NOT NULL,
    received_ms INTEGER NOT NULL,
    PRIMARY KEY (device_id, seq)
);
CREATE INDEX device_events_compartment ON device_events(device_id, compartment_label, seq);

CREATE TABLE incidents (
    id TEXT PRIMARY KEY,
    site_id TEXT NOT NULL REFERENCES sites(id),
    locker_id TEXT,
    device_id TEXT,
    compartment_label TEXT,
    parcel_id TEXT,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    resolved_ms INTEGER
);
CREATE INDEX incidents_site ON incidents(site_id, created_ms);
