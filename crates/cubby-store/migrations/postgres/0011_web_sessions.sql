-- Browser sessions of the web console. The cookie value is never stored:
-- only its MAC under the server secret. A session acts as the API token it
-- was opened with, and ends with it. Keep in step with the other backend.

CREATE TABLE web_sessions (
    id_mac BYTEA PRIMARY KEY,
    token_id TEXT NOT NULL REFERENCES api_tokens(id),
    -- Sent back with every form as a hidden field (synchroniser token).
    csrf TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL
);
CREATE INDEX web_sessions_token ON web_sessions(token_id);
