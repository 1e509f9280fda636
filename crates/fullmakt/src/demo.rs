//! `serve --demo`: a demo Digdir organisation owning the Altinn and admin scopes, a demo
//! vendor with access to them, and an admin client for the vendor whose private key is
//! written to the demo directory. Running it again changes nothing that exists.

use std::fmt::Write as _;
use std::path::Path;

use base64::Engine;
use fullmakt_domain::OrganisationNumber;
use fullmakt_jose::{RsaKeySize, SigningKey};
use fullmakt_service::admin::{clients, scopes, ClientInput, ScopeInput};
use fullmakt_service::Store;

pub const DIGDIR_ORG: &str = "991825827";
pub const VENDOR_ORG: &str = "314240979";
pub const VENDOR_CLIENT_NAME: &str = "fullmakt demo vendor admin";

/// maskinporten.md §6.5 (Altinn's scopes) plus the self-service admin scopes.
pub const DEMO_SCOPES: [&str; 12] = [
    "altinn:authentication/systemregister.write",
    "altinn:authentication/systemuser.request.read",
    "altinn:authentication/systemuser.request.write",
    "altinn:instances.read",
    "altinn:instances.write",
    "altinn:maskinporten/systemuser.read",
    "altinn:serviceowner/instances.read",
    "altinn:serviceowner/instances.write",
    "idporten:dcr.read",
    "idporten:dcr.write",
    "idporten:dcr.modify",
    "idporten:scopes.write",
];

/// Scopes the vendor's admin client carries.
const VENDOR_SCOPES: [&str; 8] = [
    "altinn:authentication/systemregister.write",
    "altinn:authentication/systemuser.request.read",
    "altinn:authentication/systemuser.request.write",
    "altinn:instances.read",
    "altinn:instances.write",
    "idporten:dcr.read",
    "idporten:dcr.write",
    "idporten:dcr.modify",
];

fn s<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

pub async fn seed(store: &Store, public_url: &str, dir: &Path) -> Result<String, String> {
    let digdir = OrganisationNumber::parse(DIGDIR_ORG).map_err(s)?;
    let vendor = OrganisationNumber::parse(VENDOR_ORG).map_err(s)?;
    for name in DEMO_SCOPES {
        if store.scope(name).await.map_err(s)?.is_none() {
            let input = ScopeInput { name: Some(name.into()), at_max_age: Some(3600), ..Default::default() };
            scopes::create_scope(store, digdir, &input, true).await.map_err(s)?;
        }
    }
    for name in VENDOR_SCOPES {
        let granted = store.scope_access(name, VENDOR_ORG).await.map_err(s)?.is_some_and(|a| a.state == "APPROVED");
        if !granted {
            scopes::set_access(store, name, VENDOR_ORG, true).await.map_err(s)?;
        }
    }

    std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let key_path = dir.join("vendor-admin-key.pem");
    let env_path = dir.join("vendor-admin.env");
    let existing = store
        .clients_of_org(VENDOR_ORG)
        .await
        .map_err(s)?
        .into_iter()
        .find(|c| c.client_name == VENDOR_CLIENT_NAME);
    let (client_id, kid) = match existing {
        Some(client) if key_path.exists() && env_path.exists() => {
            let kid = store.client_keys(&client.client_id).await.map_err(s)?.first().map(|k| k.kid.clone()).unwrap_or_default();
            (client.client_id, kid)
        }
        existing => {
            // A new key pair; only the public half goes into the database.
            let key = SigningKey::generate(RsaKeySize::Rsa2048).map_err(s)?;
            let mut jwk = serde_json::to_value(key.public_jwk()).map_err(s)?;
            let kid = "demo-vendor-admin-1".to_owned();
            jwk["kid"] = serde_json::json!(kid);
            let jwks = serde_json::json!({ "keys": [jwk] });
            let client_id = match existing {
                Some(client) => {
                    clients::set_jwks(store, &client.client_id, &jwks).await.map_err(s)?;
                    client.client_id
                }
                None => {
                    let input = ClientInput {
                        client_name: Some(VENDOR_CLIENT_NAME.into()),
                        description: Some("Admin client of the demo vendor, seeded by fullmakt serve --demo".into()),
                        scopes: Some(VENDOR_SCOPES.iter().map(|s| s.to_string()).collect()),
                        ..Default::default()
                    };
                    clients::create_client(store, vendor, &input, Some(&jwks)).await.map_err(s)?.client_id
                }
            };
            write_private_key(&key_path, &key.to_pkcs8().map_err(s)?)?;
            (client_id, kid)
        }
    };
    let issuer = fullmakt_service::issuer_from_public_url(public_url);
    let env = format!(
        "# Written by fullmakt serve --demo. Used by scripts/make-grant.sh.\nCLIENT_ID={client_id}\nKID={kid}\nKEY_FILE={}\nISSUER={issuer}\nTOKEN_ENDPOINT={issuer}token\n",
        key_path.display()
    );
    std::fs::write(&env_path, env).map_err(|e| format!("writing {}: {e}", env_path.display()))?;

    let mut out = String::new();
    let _ = writeln!(out, "fullmakt demo data is ready.");
    let _ = writeln!(out, "  issuer:           {issuer}");
    let _ = writeln!(out, "  token endpoint:   {issuer}token");
    let _ = writeln!(out, "  demo Digdir org:  {DIGDIR_ORG} (owns {} scopes)", DEMO_SCOPES.len());
    let _ = writeln!(out, "  demo vendor org:  {VENDOR_ORG}");
    let _ = writeln!(out, "  vendor client id: {client_id} (kid {kid})");
    let _ = writeln!(out, "  private key:      {}", key_path.display());
    let _ = writeln!(out, "  settings:         {}", env_path.display());
    let _ = writeln!(out, "Get a token (see README.md, 'Get a token'):");
    let _ = writeln!(out, "  curl -s {issuer}token -d grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer \\");
    let _ = write!(out, "       -d assertion=$(scripts/make-grant.sh {} 'altinn:instances.read')", env_path.display());
    Ok(out)
}

fn write_private_key(path: &Path, pkcs8: &[u8]) -> Result<(), String> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(pkcs8);
    let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(chunk).map_err(s)?);
        pem.push('\n');
    }
    pem.push_str("-----END PRIVATE KEY-----\n");
    let _ = std::fs::remove_file(path);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(path).map_err(|e| format!("writing {}: {e}", path.display()))?;
    std::io::Write::write_all(&mut f, pem.as_bytes()).map_err(|e| format!("writing {}: {e}", path.display()))
}
