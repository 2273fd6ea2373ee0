-- Out-of-home pick-up points: a site open to the public has a place on the
-- map (whole micro-degrees, exact on both backends), opening hours in its
-- zone and accessibility notes. The finder prefilters on the latitude band.
-- Keep in step with the other backend.

ALTER TABLE sites ADD COLUMN kind TEXT NOT NULL DEFAULT 'residential';

CREATE TABLE public_points (
    site_id TEXT PRIMARY KEY REFERENCES sites(id),
    lat_e6 BIGINT NOT NULL,
    lon_e6 BIGINT NOT NULL,
    opening_hours TEXT NOT NULL,
    accessibility TEXT NOT NULL,
    updated_ms BIGINT NOT NULL
);
CREATE INDEX public_points_lat ON public_points(lat_e6);
