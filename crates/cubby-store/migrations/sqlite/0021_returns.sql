-- Returns and sending: a resident announces a parcel to send with a carrier
-- and gets a drop-off code for one locker; the code opens a free compartment
-- that fits, the parcel waits there for the carrier. The code is kept only
-- as MACs (one under the server secret, one under the locker's key for its
-- agent). Keep in step with the other backend.

ALTER TABLE parcels ADD COLUMN sending TEXT;

CREATE TABLE drop_off_codes (
    id TEXT PRIMARY KEY,
    parcel_id TEXT NOT NULL UNIQUE REFERENCES parcels(id),
    locker_id TEXT NOT NULL REFERENCES lockers(id),
    mac BLOB NOT NULL UNIQUE,
    local_mac BLOB NOT NULL,
    active INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE INDEX drop_off_codes_locker ON drop_off_codes(locker_id, active);
