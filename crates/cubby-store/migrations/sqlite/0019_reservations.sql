-- Reservations: a carrier holds compartments for a delivery window. A hold
-- pins one compartment from when it is granted until its window ends; at
-- most one live hold per compartment (the partial unique index is the last
-- word on double booking, beside the locker locks taken while planning).
-- Holds end as used (by a deposit), released (the window ended), cancelled
-- or displaced (a parcel placed there at the locker while the link was
-- down). Keep in step with the other backend.

CREATE TABLE reservations (
    id TEXT PRIMARY KEY,
    site_id TEXT NOT NULL REFERENCES sites(id),
    carrier TEXT NOT NULL,
    from_ms INTEGER NOT NULL,
    to_ms INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    cancelled_ms INTEGER
);
CREATE INDEX reservations_site ON reservations(site_id, to_ms);

CREATE TABLE reservation_holds (
    id TEXT PRIMARY KEY,
    reservation_id TEXT NOT NULL REFERENCES reservations(id),
    position INTEGER NOT NULL,
    site_id TEXT NOT NULL REFERENCES sites(id),
    locker_id TEXT NOT NULL REFERENCES lockers(id),
    compartment_id TEXT NOT NULL REFERENCES compartments(id),
    temperature TEXT NOT NULL,
    tracking_number TEXT,
    to_ms INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('held', 'used', 'released', 'cancelled', 'displaced')),
    parcel_id TEXT,
    ended_ms INTEGER
);
CREATE UNIQUE INDEX reservation_holds_live ON reservation_holds(compartment_id) WHERE state = 'held';
CREATE INDEX reservation_holds_of ON reservation_holds(reservation_id, position);
CREATE INDEX reservation_holds_ending ON reservation_holds(state, to_ms);
