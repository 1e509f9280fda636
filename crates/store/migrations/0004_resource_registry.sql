-- The resource registry (registry-delegation-ui.md §1.3): resources with every version kept,
-- their XACML policy, and the subject index derived from the policy.

-- Which organisation number an org code (`skd`, `digdir`) belongs to. The first resource that
-- names a code binds it to its owner, so no organisation can write under another's code.
CREATE TABLE service_owners (
    orgcode TEXT PRIMARY KEY,          -- lower case
    orgno TEXT,                        -- NULL only for `ttd`, Altinn's test organisation
    created BIGINT NOT NULL
);

CREATE TABLE resources (
    identifier TEXT PRIMARY KEY,
    owner_orgno TEXT,
    owner_code TEXT,
    resource_type TEXT NOT NULL,
    version_id BIGINT NOT NULL,        -- the change sequence of the write that made this version
    body TEXT NOT NULL,                -- the ServiceResource JSON of the current version
    policy_xml TEXT,
    policy_version BIGINT,             -- the change sequence of the policy upload
    created BIGINT NOT NULL,
    modified BIGINT NOT NULL,
    deleted BIGINT NOT NULL DEFAULT 0  -- deleted resources keep their identifier reserved
);

CREATE TABLE resource_versions (
    version_id BIGINT PRIMARY KEY,
    identifier TEXT NOT NULL REFERENCES resources (identifier),
    body TEXT NOT NULL,
    created BIGINT NOT NULL
);
CREATE INDEX resource_versions_by_identifier ON resource_versions (identifier, version_id);

-- Subject attribute values the policy's rules name, lower-cased, e.g.
-- urn:altinn:rolecode:dagl or urn:altinn:accesspackage:regnskapsforer-lonn.
CREATE TABLE resource_subjects (
    identifier TEXT NOT NULL REFERENCES resources (identifier),
    subject_urn TEXT NOT NULL,
    subject_type TEXT NOT NULL,
    subject_value TEXT NOT NULL,
    PRIMARY KEY (identifier, subject_urn)
);
CREATE INDEX resource_subjects_by_subject ON resource_subjects (subject_urn);
