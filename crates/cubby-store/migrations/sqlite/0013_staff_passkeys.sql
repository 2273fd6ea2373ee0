-- Staff passkeys (WebAuthn) for the console: each belongs to one staff API
-- token, and proving one is the second factor every remote door opening
-- needs. The first one is registered from a one-time invitation (the first
-- admin's is printed at first start; later ones are issued by an admin who
-- has just proved their own passkey). Ceremonies in progress now name their
-- subject: a resident, or a staff token. Keep in step with the other backend.

CREATE TABLE staff_passkey_invites (
    code_mac BLOB PRIMARY KEY,
    token_id TEXT NOT NULL REFERENCES api_tokens(id),
    created_by TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL,
    used_ms INTEGER
);

CREATE TABLE staff_passkeys (
    -- The credential id, base64url.
    cred_id TEXT PRIMARY KEY,
    token_id TEXT NOT NULL REFERENCES api_tokens(id),
    -- webauthn-rs's Passkey (public key, counter), as JSON.
    passkey TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    last_used_ms INTEGER
);
CREATE INDEX staff_passkeys_token ON staff_passkeys(token_id);

ALTER TABLE webauthn_ceremonies RENAME COLUMN resident_id TO subject;

-- Residents' passkeys were stored under an empty credential id until now
-- (only the first could be stored, and none could be found again): drop
-- them, so those residents enrol again from a fresh invitation.
DELETE FROM passkeys WHERE cred_id = '';
