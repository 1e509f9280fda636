-- Facts a running server records about how it was started, for the CLI to read: whether the
-- instance runs with test data (the CLI mints test tokens only then) and its public URL (the
-- issuer of those tokens). Each `serve` start overwrites them.
CREATE TABLE instance_settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    changed BIGINT NOT NULL
);
