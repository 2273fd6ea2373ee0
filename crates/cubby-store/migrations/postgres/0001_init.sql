-- Cubby schema, PostgreSQL dialect. Keep in step with ../sqlite/0001_init.sql:
-- the same tables, columns and constraints; only types and trigger syntax differ.

CREATE TABLE organisations (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_ms BIGINT NOT NULL
);

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    token_mac BYTEA NOT NULL UNIQUE,
    org_id TEXT REFERENCES organisations(id),
    role TEXT NOT NULL,
    carrier TEXT,
    label TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    revoked BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE sites (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisations(id),
    name TEXT NOT NULL,
    timezone TEXT NOT NULL,
    created_ms BIGINT NOT NULL
);
CREATE INDEX sites_org ON sites(org_id);

CREATE TABLE buildings (
    id TEXT PRIMARY KEY,
    site_id TEXT NOT NULL REFERENCES sites(id),
    name TEXT NOT NULL,
    UNIQUE (site_id, name)
);

CREATE TABLE units (
    site_id TEXT NOT NULL REFERENCES sites(id),
    label TEXT NOT NULL,
    building_id TEXT REFERENCES buildings(id),
    PRIMARY KEY (site_id, label)
);

CREATE TABLE residents (
    id TEXT PRIMARY KEY,
    site_id TEXT NOT NULL REFERENCES sites(id),
    unit TEXT NOT NULL,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    language TEXT NOT NULL,
    reach_min_mm BIGINT,
    reach_max_mm BIGINT,
    created_ms BIGINT NOT NULL,
    FOREIGN KEY (site_id, unit) REFERENCES units(site_id, label)
);
CREATE INDEX residents_unit ON residents(site_id, unit);

CREATE TABLE carriers (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisations(id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    UNIQUE (org_id, code)
);

CREATE TABLE couriers (
    id TEXT PRIMARY KEY,
    carrier_id TEXT NOT NULL REFERENCES carriers(id),
    name TEXT NOT NULL,
    created_ms BIGINT NOT NULL
);

CREATE TABLE lockers (
    id TEXT PRIMARY KEY,
    site_id TEXT NOT NULL REFERENCES sites(id),
    name TEXT NOT NULL,
    carrier_quotas TEXT NOT NULL,
    created_ms BIGINT NOT NULL
);
CREATE INDEX lockers_site ON lockers(site_id);

CREATE TABLE compartments (
    id TEXT PRIMARY KEY,
    locker_id TEXT NOT NULL REFERENCES lockers(id),
    label TEXT NOT NULL,
    width_mm BIGINT NOT NULL,
    height_mm BIGINT NOT NULL,
    depth_mm BIGINT NOT NULL,
    size_class TEXT NOT NULL,
    temperature TEXT NOT NULL,
    height_above_floor_mm BIGINT NOT NULL,
    status TEXT NOT NULL,
    UNIQUE (locker_id, label)
);

-- One row per occupied compartment. The primary key is what makes double booking
-- impossible, whatever the number of server instances.
CREATE TABLE compartment_holders (
    compartment_id TEXT PRIMARY KEY REFERENCES compartments(id),
    locker_id TEXT NOT NULL,
    recipient_key TEXT NOT NULL,
    carrier TEXT
);
CREATE INDEX holders_locker ON compartment_holders(locker_id);

CREATE TABLE parcel_rooms (
    id TEXT PRIMARY KEY,
    site_id TEXT NOT NULL REFERENCES sites(id),
    name TEXT NOT NULL,
    created_ms BIGINT NOT NULL
);

CREATE TABLE shelf_zones (
    id TEXT PRIMARY KEY,
    room_id TEXT NOT NULL REFERENCES parcel_rooms(id),
    label TEXT NOT NULL,
    capacity BIGINT NOT NULL,
    UNIQUE (room_id, label)
);

CREATE TABLE parcels (
    id TEXT PRIMARY KEY,
    site_id TEXT NOT NULL REFERENCES sites(id),
    tracking_number TEXT NOT NULL,
    carrier TEXT,
    resident_id TEXT REFERENCES residents(id),
    recipient_unit TEXT,
    recipient_name TEXT,
    width_mm BIGINT NOT NULL,
    height_mm BIGINT NOT NULL,
    depth_mm BIGINT NOT NULL,
    weight_g BIGINT,
    temperature TEXT NOT NULL,
    state TEXT NOT NULL,
    locker_id TEXT,
    compartment_id TEXT,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL
);
CREATE INDEX parcels_tracking ON parcels(site_id, tracking_number);
CREATE INDEX parcels_compartment ON parcels(compartment_id);
CREATE INDEX parcels_resident ON parcels(resident_id);
CREATE INDEX parcels_site_state ON parcels(site_id, state);

-- The last event of each site's chain, created with the site.
CREATE TABLE custody_heads (
    site_id TEXT PRIMARY KEY REFERENCES sites(id),
    seq BIGINT NOT NULL,
    hash BYTEA NOT NULL
);

CREATE TABLE custody_events (
    site_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    parcel_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    place TEXT NOT NULL,
    reason TEXT NOT NULL,
    hash BYTEA NOT NULL,
    PRIMARY KEY (site_id, seq)
);
CREATE INDEX custody_parcel ON custody_events(parcel_id);

CREATE FUNCTION custody_events_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'custody events are append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER custody_events_no_change BEFORE UPDATE OR DELETE ON custody_events
FOR EACH ROW EXECUTE FUNCTION custody_events_append_only();

CREATE TABLE pickup_credentials (
    id TEXT PRIMARY KEY,
    locker_id TEXT NOT NULL REFERENCES lockers(id),
    resident_id TEXT NOT NULL REFERENCES residents(id),
    kind TEXT NOT NULL,
    mac BYTEA NOT NULL UNIQUE,
    parcel_id TEXT,
    active BIGINT NOT NULL,
    failures BIGINT NOT NULL,
    created_ms BIGINT NOT NULL
);
CREATE INDEX credentials_holder ON pickup_credentials(locker_id, resident_id);

CREATE TABLE keypad_throttle (
    locker_id TEXT PRIMARY KEY REFERENCES lockers(id),
    state TEXT NOT NULL
);

CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    created_ms BIGINT NOT NULL,
    site_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    last_error TEXT,
    delivered_ms BIGINT
);
CREATE INDEX outbox_status ON outbox(status, created_ms);

CREATE TABLE idempotency (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint BYTEA NOT NULL,
    status BIGINT NOT NULL,
    body TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    PRIMARY KEY (scope, key)
);
