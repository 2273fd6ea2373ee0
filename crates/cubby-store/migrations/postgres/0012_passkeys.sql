-- Residents' passkeys (WebAuthn) for the resident portal, the one-time
-- invitations that let a resident register the first one, and the state of
-- ceremonies in progress (kept here so any instance can finish what another
-- started). Keep in step with the other backend.

CREATE TABLE portal_invites (
    code_mac BYTEA PRIMARY KEY,
    resident_id TEXT NOT NULL REFERENCES residents(id),
    created_by TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL,
    used_ms BIGINT
);

CREATE TABLE passkeys (
    -- The credential id, base64url.
    cred_id TEXT PRIMARY KEY,
    resident_id TEXT NOT NULL REFERENCES residents(id),
    -- webauthn-rs's Passkey (public key, counter), as JSON.
    passkey TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    last_used_ms BIGINT
);
CREATE INDEX passkeys_resident ON passkeys(resident_id);

CREATE TABLE webauthn_ceremonies (
    id TEXT PRIMARY KEY,
    -- register or sign_in
    kind TEXT NOT NULL,
    resident_id TEXT,
    state TEXT NOT NULL,
    expires_ms BIGINT NOT NULL
);
