-- The system register of Altinn Authentication (authentication-api.md §3.1, §6): vendors'
-- systems, the Maskinporten client ids each system uses, and a change log of every write.

-- A system id is taken for ever: deleted systems keep their row (is_deleted = 1), so a system
-- user or request that names the id can never come to mean another vendor's system.
CREATE TABLE systems (
    internal_id TEXT PRIMARY KEY,          -- uuid, the reference's system_internal_id
    system_id TEXT NOT NULL UNIQUE,        -- `<vendor orgno>_<name>`
    vendor_orgno TEXT NOT NULL,            -- bare organisation number
    name TEXT NOT NULL,                    -- JSON {"en","nb","nn",…}
    description TEXT NOT NULL,             -- JSON {"en","nb","nn",…}
    rights TEXT NOT NULL,                  -- JSON Right[]
    access_packages TEXT NOT NULL,         -- JSON AccessPackage[]
    allowed_redirect_urls TEXT NOT NULL,   -- JSON array of normalised absolute https URLs
    is_visible BIGINT NOT NULL DEFAULT 1,
    is_deleted BIGINT NOT NULL DEFAULT 0,
    created BIGINT NOT NULL,
    last_changed BIGINT NOT NULL
);
CREATE INDEX systems_by_vendor ON systems (vendor_orgno, system_id);

-- Maskinporten client ids. The key is the lower-cased id, so an id belongs to at most one
-- system whatever its letter case; deleting a system deletes its rows and frees the ids.
CREATE TABLE system_clients (
    client_key TEXT PRIMARY KEY,           -- lower(client_id)
    client_id TEXT NOT NULL,               -- as the vendor wrote it
    system_internal_id TEXT NOT NULL REFERENCES systems (internal_id),
    position BIGINT NOT NULL,              -- order in the vendor's list
    created BIGINT NOT NULL
);
CREATE INDEX system_clients_by_system ON system_clients (system_internal_id, position);

-- One row per write, in the write's transaction. `sequence` is the write's change sequence,
-- which orders rows exactly where `created` (seconds) ties.
CREATE TABLE system_change_log (
    id TEXT PRIMARY KEY,
    system_internal_id TEXT NOT NULL REFERENCES systems (internal_id),
    sequence BIGINT NOT NULL,
    changed_by_orgno TEXT,
    change_type TEXT NOT NULL,
    changed_data TEXT NOT NULL,            -- JSON snapshot; `null` for a delete
    client_id TEXT,                        -- the writer's client_id claim
    created BIGINT NOT NULL,
    CHECK (change_type IN ('create', 'update', 'rights_update', 'access_package_update', 'delete', 'unknown'))
);
CREATE INDEX system_change_log_by_system ON system_change_log (system_internal_id, sequence);
