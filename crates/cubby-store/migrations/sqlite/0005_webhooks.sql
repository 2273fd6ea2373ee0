-- Signed webhooks: subscriptions, the events they are told about, and every
-- delivery with its attempts. Keep in step with the other backend's file.

CREATE TABLE webhook_subscriptions (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    -- NULL: every site of the organisation.
    site_id TEXT,
    url TEXT NOT NULL,
    -- The signing secret (whsec_...): needed in clear to sign.
    secret TEXT NOT NULL,
    -- JSON array of event type patterns ("parcel.*", "locker.door_forced").
    filter TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    disabled_reason TEXT,
    created_ms INTEGER NOT NULL
);
CREATE INDEX webhook_subscriptions_org ON webhook_subscriptions(org_id);

CREATE TABLE webhook_events (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    site_id TEXT NOT NULL,
    type TEXT NOT NULL,
    body TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);

CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    event_id TEXT NOT NULL REFERENCES webhook_events(id),
    subscription_id TEXT NOT NULL REFERENCES webhook_subscriptions(id),
    -- pending, delivered, failed (gave up or refused), cancelled (subscription gone)
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_ms INTEGER NOT NULL,
    last_status INTEGER,
    last_error TEXT,
    created_ms INTEGER NOT NULL,
    delivered_ms INTEGER
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(status, next_ms);
CREATE INDEX webhook_deliveries_subscription ON webhook_deliveries(subscription_id, created_ms);

-- How far each site's custody chain has been turned into webhook events.
CREATE TABLE webhook_cursors (
    site_id TEXT PRIMARY KEY,
    custody_seq INTEGER NOT NULL
);

ALTER TABLE incidents ADD COLUMN webhook_emitted INTEGER NOT NULL DEFAULT 0;
