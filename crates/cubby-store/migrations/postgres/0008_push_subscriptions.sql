-- Residents' browsers subscribed to web push. Keep in step with the other
-- backend's file.
CREATE TABLE push_subscriptions (
    id TEXT PRIMARY KEY,
    resident_id TEXT NOT NULL REFERENCES residents(id),
    endpoint TEXT NOT NULL,
    p256dh TEXT NOT NULL,
    auth TEXT NOT NULL,
    created_ms BIGINT NOT NULL
);
CREATE INDEX push_subscriptions_resident ON push_subscriptions(resident_id);
