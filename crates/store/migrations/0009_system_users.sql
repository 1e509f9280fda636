-- System users, the requests that create them and the change requests that alter them
-- (authentication-api.md §2.2–§2.4, §3.2–§3.9, §6). Rights and access packages are stored on
-- requests as the wire JSON the vendor sent; what a system user may do lives in the grants
-- (0005: an assignment from the owner to the system user), written in the same transaction as
-- the approval.

-- A system user acts for its owner (the customer organisation) through one system. Its id is
-- the id of the request that created it. (owner_org_no, external_ref, system_id) is unique among
-- active system users of both types (§3.2); a deleted one frees the triple.
CREATE TABLE system_users (
    id TEXT PRIMARY KEY,
    system_id TEXT NOT NULL,
    integration_title TEXT NOT NULL,
    owner_party_id INTEGER NOT NULL REFERENCES parties (party_id),
    owner_org_no TEXT NOT NULL,
    external_ref TEXT NOT NULL,
    user_type TEXT NOT NULL,
    -- Agent system users carry the client packages they were approved for (JSON array of URNs).
    access_packages TEXT NOT NULL,
    is_deleted INTEGER NOT NULL DEFAULT 0,
    created BIGINT NOT NULL,
    last_changed BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    changed_by TEXT NOT NULL,
    -- Position in Register's change stream; every write of the row takes the next value.
    stream_position BIGINT NOT NULL UNIQUE,
    -- The change sequence of the creating write, then the id: the order of every list.
    list_position BIGINT NOT NULL,
    CHECK (user_type IN ('standard', 'agent'))
);
CREATE UNIQUE INDEX system_users_identity ON system_users (owner_org_no, external_ref, system_id) WHERE is_deleted = 0;
CREATE INDEX system_users_by_system ON system_users (system_id, list_position, id);
CREATE INDEX system_users_by_owner ON system_users (owner_party_id, list_position, id);

-- The stream counter. Writes are serialised by the change sequence, so positions commit in
-- order and a reader never sees position n + 1 before n.
CREATE TABLE system_user_stream (
    id INTEGER PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO system_user_stream (id, value) VALUES (1, 0);

-- Requests for a standard or an agent system user. (party_org_no, external_ref, system_id,
-- kind) is the idempotency key among requests that are not deleted.
CREATE TABLE system_user_requests (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    external_ref TEXT NOT NULL,
    system_id TEXT NOT NULL,
    party_org_no TEXT NOT NULL,
    integration_title TEXT NOT NULL,
    rights TEXT NOT NULL,
    access_packages TEXT NOT NULL,
    status TEXT NOT NULL,
    redirect_url TEXT,
    escalated INTEGER NOT NULL DEFAULT 0,
    is_deleted INTEGER NOT NULL DEFAULT 0,
    created BIGINT NOT NULL,
    last_changed BIGINT NOT NULL,
    changed_by TEXT,
    list_position BIGINT NOT NULL,
    CHECK (kind IN ('standard', 'agent')),
    CHECK (status IN ('New', 'Accepted', 'Rejected', 'Denied', 'Timedout'))
);
CREATE INDEX system_user_requests_identity ON system_user_requests (party_org_no, external_ref, system_id, kind) WHERE is_deleted = 0;
CREATE INDEX system_user_requests_by_system ON system_user_requests (system_id, kind, list_position, id);
CREATE INDEX system_user_requests_pending ON system_user_requests (party_org_no, kind, status);

-- Change requests for a standard system user: what to add and what to take away.
CREATE TABLE system_user_change_requests (
    id TEXT PRIMARY KEY,
    system_user_id TEXT NOT NULL REFERENCES system_users (id),
    external_ref TEXT NOT NULL,
    system_id TEXT NOT NULL,
    party_org_no TEXT NOT NULL,
    required_rights TEXT NOT NULL,
    unwanted_rights TEXT NOT NULL,
    required_access_packages TEXT NOT NULL,
    unwanted_access_packages TEXT NOT NULL,
    status TEXT NOT NULL,
    redirect_url TEXT,
    is_deleted INTEGER NOT NULL DEFAULT 0,
    created BIGINT NOT NULL,
    last_changed BIGINT NOT NULL,
    changed_by TEXT,
    list_position BIGINT NOT NULL,
    CHECK (status IN ('New', 'Accepted', 'Rejected', 'Denied', 'Timedout'))
);
CREATE INDEX system_user_change_requests_by_system ON system_user_change_requests (system_id, list_position, id);
CREATE INDEX system_user_change_requests_by_user ON system_user_change_requests (system_user_id);
