-- What each write changed, for nodes that keep the decision index in memory: a node that has
-- applied every change up to sequence S reads the rows after S and refreshes only those keys.
-- Written in the same transaction as the change itself, so the log and the data never differ.
CREATE TABLE index_changes (
    sequence BIGINT NOT NULL,
    -- assignment (party_id = from party, other = recipient uuid), client (client party, agent
    -- uuid), role (unit, holder party id), party (party id, ''), all (a bulk write: rebuild)
    kind TEXT NOT NULL,
    party_id BIGINT NOT NULL,
    other TEXT NOT NULL,
    PRIMARY KEY (sequence, kind, party_id, other)
);

-- Rows below `below` have been swept; a node whose index is older than that rebuilds it.
CREATE TABLE index_changes_horizon (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    below BIGINT NOT NULL
);
INSERT INTO index_changes_horizon (id, below) VALUES (1, 0);
