// Peer token server for bench/token: node oidc-provider as a private_key_jwt +
// client_credentials authorization server that issues RS256 JWT access tokens.
// This reproduces the setup measured in shared/spec/anchors.md §3.1 so the figures compare.
//
//   PORT=18442 CLIENT_JWKS=client_jwks.json node server.js
//
// Environment:
//   PORT          listen port on 127.0.0.1 (required)
//   CLIENT_JWKS   path to the bench client's public JWKS (required; same key fullmakt gets)
//   CLIENT_ID     client_id of the bench client (default "bench")
//   SCOPE         scope the client may request (default "bench:token")
//   RESOURCE      resource indicator of the one resource server (default "urn:fullmakt:bench")
//
// Issuer = http://127.0.0.1:PORT; client assertions may use it (or the token endpoint URL) as aud.
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';

import Provider, { errors } from 'oidc-provider';

const port = Number.parseInt(process.env.PORT ?? '', 10);
if (!Number.isInteger(port) || port <= 0) {
  console.error('PORT must be set');
  process.exit(2);
}
if (!process.env.CLIENT_JWKS) {
  console.error('CLIENT_JWKS must be set');
  process.exit(2);
}
const clientId = process.env.CLIENT_ID ?? 'bench';
const scope = process.env.SCOPE ?? 'bench:token';
const resource = process.env.RESOURCE ?? 'urn:fullmakt:bench';
const issuer = `http://127.0.0.1:${port}`;
const clientJwks = JSON.parse(readFileSync(process.env.CLIENT_JWKS, 'utf8'));

// A fresh RSA-2048 signing key per run: RS256 access tokens, like Maskinporten and fullmakt.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = {
  ...privateKey.export({ format: 'jwk' }),
  kid: 'peer-1',
  use: 'sig',
  alg: 'RS256',
};

const resourceServer = {
  scope,
  audience: resource,
  accessTokenTTL: 120,
  accessTokenFormat: 'jwt', // RFC 9068 at+jwt, signed, never stored
  jwt: { sign: { alg: 'RS256' } },
};

const provider = new Provider(issuer, {
  // No adapter: oidc-provider's built-in in-memory adapter. It also backs the client-assertion
  // jti replay store (ReplayDetection); see README.md "Caveats" for how it bounds that store.
  clients: [
    {
      client_id: clientId,
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'RS256',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      scope,
      jwks: clientJwks,
    },
  ],
  jwks: { keys: [signingKey] },
  scopes: [scope],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => resource,
      useGrantedResource: () => true,
      getResourceServerInfo(_ctx, indicator) {
        if (indicator !== resource) throw new errors.InvalidTarget();
        return resourceServer;
      },
    },
  },
  ttl: { ClientCredentials: 120 },
  // Cookies are never set on the token endpoint; the keys only silence the dev-key warning.
  cookies: { keys: ['bench-token-peer-not-a-secret'] },
});

// Print the first few rejected requests so a run full of 400s can be diagnosed from the log.
let reported = 0;
for (const event of ['grant.error', 'server_error']) {
  provider.on(event, (_ctx, err) => {
    if (reported < 5) {
      reported += 1;
      console.error(`${event}: ${err.name}: ${err.message}${err.error_detail ? ` (${err.error_detail})` : ''}`);
    }
  });
}

const server = provider.listen(port, '127.0.0.1', () => {
  console.error(`oidc-provider peer listening, issuer ${issuer}, token endpoint ${issuer}/token`);
});

// run.sh stops us with SIGTERM; close promptly so the port is free for the next run.
process.on('SIGTERM', () => {
  server.close();
  process.exit(0);
});
