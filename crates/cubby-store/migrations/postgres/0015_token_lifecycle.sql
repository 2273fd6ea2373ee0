-- API tokens expire, can be revoked at a known time, and may be scoped to
-- some sites of their organisation (site_ids: a JSON array; NULL = every
-- site). Tokens issued before this have no expiry. Keep in step with the
-- other backend.

ALTER TABLE api_tokens ADD COLUMN expires_ms BIGINT;
ALTER TABLE api_tokens ADD COLUMN revoked_ms BIGINT;
ALTER TABLE api_tokens ADD COLUMN site_ids TEXT;
