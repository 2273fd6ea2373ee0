-- Self-service: residents and couriers with their own tokens, household
-- members, delegate codes, vacation holds, courier visits and open-shelf
-- parcel rooms. Keep in step with the other backend's file of the same name.

-- A resident token acts for one resident; a courier token for one courier.
ALTER TABLE api_tokens ADD COLUMN resident_id TEXT REFERENCES residents(id);
ALTER TABLE api_tokens ADD COLUMN courier_id TEXT REFERENCES couriers(id);

-- A household member added by a resident of the same unit (NULL when staff
-- added the resident), and when a resident removed them.
ALTER TABLE residents ADD COLUMN added_by TEXT REFERENCES residents(id);
ALTER TABLE residents ADD COLUMN removed_ms BIGINT;
-- Vacation: parcels deposited before this instant are held, not expired.
ALTER TABLE residents ADD COLUMN away_until_ms BIGINT;

-- Who issued a pick-up credential (a delegate code names the resident who
-- shared it and whom for), and when it was revoked.
ALTER TABLE pickup_credentials ADD COLUMN issued_by TEXT;
ALTER TABLE pickup_credentials ADD COLUMN delegate_name TEXT;
ALTER TABLE pickup_credentials ADD COLUMN revoked_ms BIGINT;

-- The courier account a visit PIN belongs to, and the parcel room a room
-- code opens.
ALTER TABLE access_grants ADD COLUMN courier_id TEXT REFERENCES couriers(id);
ALTER TABLE access_grants ADD COLUMN room_id TEXT REFERENCES parcel_rooms(id);

-- The path from the street to a parcel room: courier visits and room codes
-- open its doors.
ALTER TABLE parcel_rooms ADD COLUMN path_id TEXT REFERENCES door_paths(id);

-- A parcel on an open shelf: its zone, and the room code that lets its
-- recipient in once.
ALTER TABLE parcels ADD COLUMN shelf_zone_id TEXT REFERENCES shelf_zones(id);
ALTER TABLE parcels ADD COLUMN room_grant_id TEXT REFERENCES access_grants(id);
CREATE INDEX parcels_room_grant ON parcels(room_grant_id);
