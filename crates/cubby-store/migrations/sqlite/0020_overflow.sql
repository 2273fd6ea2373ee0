-- Overflow and redirect. Lockers and parcel rooms may have a position on
-- the site plan (metres), so that a full locker offers the nearest places
-- that can take the parcel first; a pre-advised parcel may be redirected
-- to another locker of its site before it arrives. Keep in step with the
-- other backend.

ALTER TABLE lockers ADD COLUMN plan_x_m INTEGER;
ALTER TABLE lockers ADD COLUMN plan_y_m INTEGER;
ALTER TABLE parcel_rooms ADD COLUMN plan_x_m INTEGER;
ALTER TABLE parcel_rooms ADD COLUMN plan_y_m INTEGER;
ALTER TABLE parcels ADD COLUMN redirected_to TEXT REFERENCES lockers(id);
