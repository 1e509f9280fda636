-- The access-package catalogue, copied at start from the catalogue embedded in the binary
-- (fullmakt-domain's Catalogue) so SQL can join to it. The embedded files are the source of
-- truth: these tables are rewritten whenever their digest differs from the binary's, and left
-- alone (no write, no change-sequence bump) when it is the same.
-- Ids are upstream's fixed GUIDs in lower case; names are in bokmål, nynorsk and English.

CREATE TABLE catalogue_state (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    digest TEXT NOT NULL,
    loaded BIGINT NOT NULL
);

CREATE TABLE catalogue_area_groups (
    id TEXT PRIMARY KEY,
    urn TEXT,
    name_nb TEXT NOT NULL,
    name_nn TEXT NOT NULL,
    name_en TEXT NOT NULL,
    entity_type TEXT NOT NULL
);

CREATE TABLE catalogue_areas (
    id TEXT PRIMARY KEY,
    group_id TEXT NOT NULL REFERENCES catalogue_area_groups (id),
    urn TEXT NOT NULL UNIQUE,
    name_nb TEXT NOT NULL,
    name_nn TEXT NOT NULL,
    name_en TEXT NOT NULL,
    icon_url TEXT NOT NULL
);

-- package_index is the dense index of this catalogue version (fullmakt-domain PackageIndex);
-- persist package ids or codes elsewhere, never the index.
CREATE TABLE catalogue_packages (
    id TEXT PRIMARY KEY,
    package_index BIGINT NOT NULL,
    code TEXT NOT NULL UNIQUE,
    urn TEXT NOT NULL UNIQUE,
    area_id TEXT NOT NULL REFERENCES catalogue_areas (id),
    entity_type TEXT NOT NULL,
    provider TEXT NOT NULL,
    is_assignable BIGINT NOT NULL,
    is_delegable BIGINT NOT NULL,
    is_available_for_service_owners BIGINT NOT NULL,
    name_nb TEXT NOT NULL,
    name_nn TEXT NOT NULL,
    name_en TEXT NOT NULL
);

CREATE TABLE catalogue_roles (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    urn TEXT NOT NULL UNIQUE,
    legacy_urn TEXT,
    legacy_code TEXT,
    provider TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    is_key_role BIGINT NOT NULL,
    is_assignable BIGINT NOT NULL,
    is_available_for_service_owners BIGINT NOT NULL,
    name_nb TEXT NOT NULL,
    name_nn TEXT NOT NULL,
    name_en TEXT NOT NULL
);

-- entity_variant is the organisation form the row is limited to, or '' for every form
-- (a key column cannot be NULL on PostgreSQL).
CREATE TABLE catalogue_role_packages (
    role_id TEXT NOT NULL REFERENCES catalogue_roles (id),
    package_id TEXT NOT NULL REFERENCES catalogue_packages (id),
    entity_variant TEXT NOT NULL,
    has_access BIGINT NOT NULL,
    can_delegate BIGINT NOT NULL,
    can_assign BIGINT NOT NULL,
    PRIMARY KEY (role_id, package_id, entity_variant)
);
CREATE INDEX catalogue_role_packages_by_package ON catalogue_role_packages (package_id);

CREATE TABLE catalogue_role_map (
    has_role_id TEXT NOT NULL REFERENCES catalogue_roles (id),
    get_role_id TEXT NOT NULL REFERENCES catalogue_roles (id),
    PRIMARY KEY (has_role_id, get_role_id)
);

CREATE TABLE catalogue_entity_variants (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    name_nb TEXT NOT NULL,
    name_nn TEXT NOT NULL,
    name_en TEXT NOT NULL
);

CREATE TABLE catalogue_entity_variant_roles (
    id TEXT PRIMARY KEY,
    entity_variant TEXT NOT NULL,
    role_id TEXT NOT NULL REFERENCES catalogue_roles (id)
);
