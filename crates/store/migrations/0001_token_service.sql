-- Token service: clients, their keys and scopes, scopes and access grants, signing keys,
-- the grant replay store and the global change sequence.
-- Times are Unix seconds; flags are 0/1 integers: the same file runs on SQLite and PostgreSQL.

CREATE TABLE change_sequence (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    value BIGINT NOT NULL
);
INSERT INTO change_sequence (id, value) VALUES (1, 0);

CREATE TABLE clients (
    client_id TEXT PRIMARY KEY,
    client_name TEXT NOT NULL,
    description TEXT NOT NULL,
    client_orgno TEXT NOT NULL,
    integration_type TEXT NOT NULL,
    access_token_lifetime BIGINT NOT NULL,
    active BIGINT NOT NULL,
    created BIGINT NOT NULL,
    last_updated BIGINT NOT NULL
);
CREATE INDEX clients_by_org ON clients (client_orgno);

CREATE TABLE client_scopes (
    client_id TEXT NOT NULL REFERENCES clients (client_id),
    scope TEXT NOT NULL,
    PRIMARY KEY (client_id, scope)
);

-- kid is unique across all clients (maskinporten.md §6.1: enforce globally).
CREATE TABLE client_keys (
    kid TEXT PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES clients (client_id),
    jwk TEXT NOT NULL,
    created BIGINT NOT NULL,
    expires BIGINT NOT NULL
);
CREATE INDEX client_keys_by_client ON client_keys (client_id);

CREATE TABLE scope_prefixes (
    prefix TEXT PRIMARY KEY,
    owner_orgno TEXT NOT NULL
);

CREATE TABLE scopes (
    name TEXT PRIMARY KEY,
    prefix TEXT NOT NULL REFERENCES scope_prefixes (prefix),
    subscope TEXT NOT NULL,
    description TEXT NOT NULL,
    long_description TEXT NOT NULL,
    owner_orgno TEXT NOT NULL,
    active BIGINT NOT NULL,
    visibility TEXT NOT NULL,
    allowed_integration_types TEXT NOT NULL,
    accessible_for_all BIGINT NOT NULL,
    at_max_age BIGINT NOT NULL,
    delegation_source TEXT,
    requires_user_consent BIGINT NOT NULL,
    created BIGINT NOT NULL,
    last_updated BIGINT NOT NULL
);
CREATE INDEX scopes_by_owner ON scopes (owner_orgno);

CREATE TABLE scope_access (
    scope TEXT NOT NULL REFERENCES scopes (name),
    consumer_orgno TEXT NOT NULL,
    state TEXT NOT NULL,
    created BIGINT NOT NULL,
    last_updated BIGINT NOT NULL,
    PRIMARY KEY (scope, consumer_orgno)
);

-- state: next (published, not yet signing), active (signing), retired (published until
-- publish_until so tokens it signed still verify).
CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    public_jwk TEXT NOT NULL,
    sealed_private_key TEXT NOT NULL,
    state TEXT NOT NULL,
    created BIGINT NOT NULL,
    activated BIGINT,
    publish_until BIGINT
);

-- Not part of the change sequence: replay records are not configuration.
CREATE TABLE grant_replay (
    client_id TEXT NOT NULL,
    jti TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (client_id, jti)
);
CREATE INDEX grant_replay_by_expiry ON grant_replay (expires_at);
