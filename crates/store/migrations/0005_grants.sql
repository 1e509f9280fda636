-- Grants (the Access Management part, registry-delegation-ui.md §3.3 and §4.4): who has been
-- given what by whom. ER roles (0002) are the other source of authority; the policy information
-- point combines both with the catalogue's role → package rows.

-- `from_party_id` gives `to_uuid` a role (rettighetshaver, agent) for itself. The recipient is a
-- person or organisation (its party uuid) or a system user (its id), as `to_kind` says.
CREATE TABLE assignments (
    id TEXT PRIMARY KEY,
    from_party_id INTEGER NOT NULL REFERENCES parties (party_id),
    to_uuid TEXT NOT NULL,
    to_kind TEXT NOT NULL,
    role_code TEXT NOT NULL,
    created BIGINT NOT NULL,
    CHECK (to_kind IN ('person', 'organization', 'systemuser')),
    UNIQUE (from_party_id, to_uuid, role_code)
);
CREATE INDEX assignments_by_recipient ON assignments (to_uuid, from_party_id);

-- Access packages given with an assignment (catalogue package ids).
CREATE TABLE assignment_packages (
    assignment_id TEXT NOT NULL REFERENCES assignments (id),
    package_id TEXT NOT NULL,
    created BIGINT NOT NULL,
    PRIMARY KEY (assignment_id, package_id)
);

-- Single rights given with an assignment: an action on a registry resource.
CREATE TABLE assignment_rights (
    assignment_id TEXT NOT NULL REFERENCES assignments (id),
    resource_id TEXT NOT NULL,
    action TEXT NOT NULL,
    created BIGINT NOT NULL,
    PRIMARY KEY (assignment_id, resource_id, action)
);

-- Client delegation: a facilitator passes on to one of its agents packages a client gave it,
-- either through an ER role the client registered on the facilitator (`via_role_code` is that
-- role, e.g. regnskapsforer) or as rettighetshaver (`via_role_code` = rettighetshaver). The
-- packages only count while that source and the facilitator → agent assignment still exist,
-- so revoking any link of the chain revokes the delegation without touching these rows.
CREATE TABLE client_delegations (
    id TEXT PRIMARY KEY,
    client_party_id INTEGER NOT NULL REFERENCES parties (party_id),
    facilitator_party_id INTEGER NOT NULL REFERENCES parties (party_id),
    via_role_code TEXT NOT NULL,
    agent_uuid TEXT NOT NULL,
    created BIGINT NOT NULL,
    UNIQUE (client_party_id, via_role_code, agent_uuid)
);
CREATE INDEX client_delegations_by_agent ON client_delegations (agent_uuid, client_party_id);
CREATE INDEX client_delegations_by_facilitator ON client_delegations (facilitator_party_id, agent_uuid);

CREATE TABLE client_delegation_packages (
    delegation_id TEXT NOT NULL REFERENCES client_delegations (id),
    package_id TEXT NOT NULL,
    created BIGINT NOT NULL,
    PRIMARY KEY (delegation_id, package_id)
);
