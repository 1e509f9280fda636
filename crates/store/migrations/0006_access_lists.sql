-- Access lists (registry-delegation-ui.md §1.5): a service owner's lists of organisations,
-- connected to its resources. A resource in access-list mode permits only parties on a
-- connected list (for the connection's actions).

CREATE TABLE access_lists (
    id TEXT PRIMARY KEY,
    owner_code TEXT NOT NULL,          -- the service owner's org code, lower case
    identifier TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    version BIGINT NOT NULL,           -- change sequence of the last write to the list, its members or connections
    created BIGINT NOT NULL,
    updated BIGINT NOT NULL,
    UNIQUE (owner_code, identifier)
);

CREATE TABLE access_list_members (
    list_id TEXT NOT NULL REFERENCES access_lists (id),
    party_id INTEGER NOT NULL REFERENCES parties (party_id),
    since BIGINT NOT NULL,
    PRIMARY KEY (list_id, party_id)
);
CREATE INDEX access_list_members_by_party ON access_list_members (party_id);

CREATE TABLE access_list_resources (
    list_id TEXT NOT NULL REFERENCES access_lists (id),
    resource_id TEXT NOT NULL,
    action_filters TEXT,               -- JSON array of actions; NULL means every action
    created BIGINT NOT NULL,
    updated BIGINT NOT NULL,
    PRIMARY KEY (list_id, resource_id)
);
CREATE INDEX access_list_resources_by_resource ON access_list_resources (resource_id);
