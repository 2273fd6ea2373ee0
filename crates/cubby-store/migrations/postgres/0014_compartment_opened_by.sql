-- Who opened a compartment for its first parcel, and when. A deposit may join
-- the recipient's occupied compartment only when the same depositor opened it
-- during the same visit: a courier never sees another delivery's parcels.
-- Compartments filled before this column existed have no opener and are
-- never shared. Keep in step with the other backend.

ALTER TABLE compartment_holders ADD COLUMN opened_by TEXT;
ALTER TABLE compartment_holders ADD COLUMN opened_ms BIGINT;
