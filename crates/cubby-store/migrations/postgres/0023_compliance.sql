-- Carrier compliance and community rules. A pre-advised parcel that
-- arrives larger than announced is marked, for the carrier's report; a
-- resident's acknowledgement of the site's community rules is kept once.
-- Keep in step with the other backend.

ALTER TABLE parcels ADD COLUMN size_mismatch BIGINT NOT NULL DEFAULT 0;
ALTER TABLE residents ADD COLUMN rules_acknowledged_ms BIGINT;
