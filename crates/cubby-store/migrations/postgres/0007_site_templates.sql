-- Operators' overrides of notification templates, per site, kind, language
-- and part. Keep in step with the other backend's file.
CREATE TABLE site_templates (
    site_id TEXT NOT NULL REFERENCES sites(id),
    kind TEXT NOT NULL,
    language TEXT NOT NULL,
    part TEXT NOT NULL,
    source TEXT NOT NULL,
    updated_ms BIGINT NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (site_id, kind, language, part)
);
