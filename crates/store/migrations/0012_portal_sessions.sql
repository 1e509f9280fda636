-- The portal's sessions (`/accessmanagement/ui/`). A session starts when a person who has
-- logged in (the Altinn person token from person login) first opens the portal, and holds what
-- the pages need between requests: who the person is, which party they act for, and the
-- anti-forgery token every form carries. In the database, so logout ends the session on every
-- node at once and a stolen cookie is worthless afterwards.
--
-- Keyed by the SHA-256 of the cookie's secret, never the secret. Like the login rows these are
-- not configuration and do not bump the change sequence; the server sweeps expired rows.
CREATE TABLE portal_sessions (
    session_hash TEXT PRIMARY KEY,
    person_party_id BIGINT NOT NULL,
    -- The party the person acts for; NULL until chosen (or taken from a request's link).
    acting_party_id BIGINT,
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    -- Moves forward with use (idle timeout) but never past created_at + the absolute lifetime.
    expires_at BIGINT NOT NULL
);
CREATE INDEX portal_sessions_by_expiry ON portal_sessions (expires_at);
