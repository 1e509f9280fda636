-- The register: parties (units of Enhetsregisteret and persons of the population register)
-- and the ER roles between them.
--
-- party_id is Altinn's 32-bit party id. It is declared INTEGER PRIMARY KEY so that on SQLite it
-- is the rowid itself (one b-tree less for a register of millions of parties); on PostgreSQL
-- INTEGER is int4, which is the range Altinn uses. Everything else follows 0001's rules:
-- TEXT, BIGINT, flags as 0/1, times as Unix seconds.

CREATE TABLE parties (
    party_id INTEGER PRIMARY KEY,
    party_uuid TEXT NOT NULL UNIQUE,
    -- 'organization' or 'person'
    party_type TEXT NOT NULL,
    org_number TEXT UNIQUE,
    person_identifier TEXT UNIQUE,
    name TEXT NOT NULL,
    -- Organisation form (AS, ENK, BEDR, …); NULL for persons and for units whose form is unknown.
    unit_type TEXT,
    -- A sub-unit's main unit. The service keeps it one level deep (a main unit has none).
    main_unit_party_id INTEGER REFERENCES parties (party_id),
    is_deleted BIGINT NOT NULL,
    created BIGINT NOT NULL,
    last_changed BIGINT NOT NULL,
    CHECK (party_type IN ('organization', 'person')),
    CHECK (party_type <> 'organization' OR (org_number IS NOT NULL AND person_identifier IS NULL)),
    CHECK (party_type <> 'person' OR (person_identifier IS NOT NULL AND org_number IS NULL
        AND unit_type IS NULL AND main_unit_party_id IS NULL))
);
CREATE INDEX parties_by_main_unit ON parties (main_unit_party_id);

-- "to_party holds role_code in from_party": from a unit to a person or another unit.
-- role_code is the catalogue's role code (daglig-leder, regnskapsforer, …), always an ER role.
-- The primary key answers "who holds roles in this unit"; the index answers "where does this
-- person or unit hold roles" and "which roles does X hold in Y".
CREATE TABLE er_roles (
    from_party_id INTEGER NOT NULL REFERENCES parties (party_id),
    role_code TEXT NOT NULL,
    to_party_id INTEGER NOT NULL REFERENCES parties (party_id),
    created BIGINT NOT NULL,
    PRIMARY KEY (from_party_id, role_code, to_party_id)
);
CREATE INDEX er_roles_by_holder ON er_roles (to_party_id, from_party_id);
