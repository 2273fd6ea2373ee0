-- Doors, door paths and access grants (visitor and courier PINs), decided at
-- the door's controller from its signed cache.
-- Keep in step with the other backend's file of the same name.

CREATE TABLE doors (
    id TEXT PRIMARY KEY,
    site_id TEXT NOT NULL REFERENCES sites(id),
    name TEXT NOT NULL,
    -- perimeter, lobby, parcel_room or shared
    kind TEXT NOT NULL,
    -- secure (stays locked without power) or safe (unlocks without power)
    fail_mode TEXT NOT NULL,
    -- The agent that drives the door's lock, and the lock output in its
    -- wiring order (after its compartments).
    device_id TEXT REFERENCES devices(id),
    lock_output INTEGER,
    created_ms INTEGER NOT NULL,
    UNIQUE (device_id, lock_output)
);
CREATE INDEX doors_site ON doors(site_id);

-- An ordered route such as perimeter -> lobby -> parcel room.
CREATE TABLE door_paths (
    id TEXT PRIMARY KEY,
    site_id TEXT NOT NULL REFERENCES sites(id),
    name TEXT NOT NULL,
    -- JSON array of door ids, in walking order.
    doors TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE INDEX door_paths_site ON door_paths(site_id);

CREATE TABLE access_grants (
    id TEXT PRIMARY KEY,
    site_id TEXT NOT NULL REFERENCES sites(id),
    -- visitor or courier
    kind TEXT NOT NULL,
    label TEXT NOT NULL,
    host_resident_id TEXT REFERENCES residents(id),
    carrier TEXT,
    -- JSON of the domain's GrantRule (doors, period, schedule, uses).
    rule TEXT NOT NULL,
    not_after_ms INTEGER NOT NULL,
    -- HMAC of the PIN under the server secret, scoped to the site: no two
    -- grants of a site share a PIN. The PIN itself is never stored.
    pin_mac BLOB NOT NULL,
    created_by TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    revoked_ms INTEGER,
    UNIQUE (site_id, pin_mac)
);
CREATE INDEX access_grants_site ON access_grants(site_id, not_after_ms);

-- The PIN's MAC under each controller's own credential key, for its cache.
CREATE TABLE access_grant_macs (
    grant_id TEXT NOT NULL REFERENCES access_grants(id),
    device_id TEXT NOT NULL REFERENCES devices(id),
    local_mac BLOB NOT NULL,
    PRIMARY KEY (grant_id, device_id)
);
CREATE INDEX access_grant_macs_device ON access_grant_macs(device_id);

-- Every opening by a grant, as journalled by the controller (exactly once).
CREATE TABLE access_uses (
    device_id TEXT NOT NULL REFERENCES devices(id),
    device_seq INTEGER NOT NULL,
    grant_id TEXT NOT NULL REFERENCES access_grants(id),
    door_id TEXT NOT NULL REFERENCES doors(id),
    at_ms INTEGER NOT NULL,
    PRIMARY KEY (device_id, device_seq)
);
CREATE INDEX access_uses_grant ON access_uses(grant_id, at_ms);
