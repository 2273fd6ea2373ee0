-- A carrier's own webhook subscriptions: only events about its parcels.
-- Keep in step with the other backend's file.
ALTER TABLE webhook_subscriptions ADD COLUMN carrier TEXT;
