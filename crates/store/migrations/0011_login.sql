-- Person login: the relying party's logins in progress, and the built-in test identity
-- provider's pending authorizations and authorization codes. In the database, not in memory,
-- so a login started on one node completes on another.
--
-- Every row is short-lived and used once: it is taken with DELETE … RETURNING, so two nodes
-- (or two tabs) can never both complete one login or redeem one code. Rows are keyed by the
-- SHA-256 of the secret the browser or client holds (state, request id, code), never by the
-- secret itself. Like grant_replay, these rows are not configuration and do not bump the
-- change sequence; the server sweeps expired rows.

-- The relying party (`GET /authentication/api/v1/authentication` → provider → callback).
CREATE TABLE login_attempts (
    state_hash TEXT PRIMARY KEY,
    -- SHA-256 of the login cookie of the browser that started the login.
    browser_hash TEXT NOT NULL,
    nonce TEXT NOT NULL,
    -- The PKCE code verifier; sent only to the provider's token endpoint.
    code_verifier TEXT NOT NULL,
    -- Where to go after login, already checked to be on fullmakt's public origin.
    goto TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX login_attempts_by_expiry ON login_attempts (expires_at);

-- The test identity provider: an authorization request waiting for a person to be chosen.
CREATE TABLE test_idp_requests (
    request_hash TEXT PRIMARY KEY,
    browser_hash TEXT NOT NULL,
    -- The form's anti-forgery token, bound to this request.
    csrf_token TEXT NOT NULL,
    client_id TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    state TEXT,
    nonce TEXT,
    code_challenge TEXT NOT NULL,
    scope TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX test_idp_requests_by_expiry ON test_idp_requests (expires_at);

-- The test identity provider: an authorization code for the chosen person.
CREATE TABLE test_idp_codes (
    code_hash TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    nonce TEXT,
    scope TEXT NOT NULL,
    person_identifier TEXT NOT NULL,
    auth_time BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX test_idp_codes_by_expiry ON test_idp_codes (expires_at);
