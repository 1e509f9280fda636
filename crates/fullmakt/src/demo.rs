//! `serve --demo`: a demo Digdir organisation owning the Altinn and admin scopes, a demo
//! vendor with access to them, an admin client for the vendor whose private key is written to
//! the demo directory, and a small register: a customer company with its general manager and a
//! branch, an accounting firm that is REGN for two clients and FFØR for a housing cooperative.
//! Running it again changes nothing that exists.

use std::fmt::Write as _;
use std::path::Path;

use base64::Engine;
use fullmakt_domain::{OrganisationNumber, SyntheticNumbers};
use fullmakt_jose::{RsaKeySize, SigningKey};
use fullmakt_service::admin::{clients, scopes, ClientInput, ScopeInput};
use fullmakt_service::register::{self, NewOrganisation, NewPerson, NewRole, PartyLookup, RegisterError, RoleHolder};
use fullmakt_service::Store;

pub const DIGDIR_ORG: &str = "991825827";
pub const VENDOR_ORG: &str = "314240979";
pub const VENDOR_CLIENT_NAME: &str = "fullmakt demo vendor admin";

/// maskinporten.md §6.5 (Altinn's scopes), the register lookup scope and the self-service
/// admin scopes.
pub const DEMO_SCOPES: [&str; 16] = [
    "altinn:authentication/systemregister.write",
    "altinn:authorization/authorize",
    "altinn:resourceregistry/accesslist.write",
    "altinn:resourceregistry/resource.write",
    "altinn:authentication/systemuser.request.read",
    "altinn:authentication/systemuser.request.write",
    "altinn:instances.read",
    "altinn:instances.write",
    "altinn:maskinporten/systemuser.read",
    "altinn:register/partylookup.admin",
    "altinn:serviceowner/instances.read",
    "altinn:serviceowner/instances.write",
    "idporten:dcr.read",
    "idporten:dcr.write",
    "idporten:dcr.modify",
    "idporten:scopes.write",
];

/// Scopes the vendor's admin client carries.
const VENDOR_SCOPES: [&str; 10] = [
    "altinn:authentication/systemregister.write",
    "altinn:authorization/authorize",
    "altinn:authentication/systemuser.request.read",
    "altinn:authentication/systemuser.request.write",
    "altinn:instances.read",
    "altinn:instances.write",
    "altinn:register/partylookup.admin",
    "idporten:dcr.read",
    "idporten:dcr.write",
    "idporten:dcr.modify",
];

fn s<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// The demo register. Organisation numbers pass MOD11; the persons have synthetic (Tenor style,
/// month + 80) numbers, so they can never be mistaken for real people.
pub const CUSTOMER_ORG: &str = "310601004";
pub const CUSTOMER_BRANCH_ORG: &str = "310602000";
pub const ACCOUNTING_FIRM_ORG: &str = "310603007";
pub const SOLE_PROPRIETOR_ORG: &str = "310604003";
pub const HOUSING_COOP_ORG: &str = "310605018";
pub const CUSTOMER_MANAGER_PID: &str = "12877800170";
pub const ACCOUNTANT_PID: &str = "03838500063";
pub const COOP_CHAIR_PID: &str = "17917200068";

/// (organisation number, name, unit type, main unit)
const DEMO_ORGANISATIONS: [(&str, &str, &str, Option<&str>); 7] = [
    (DIGDIR_ORG, "Digitaliseringsdirektoratet", "ORGL", None),
    (VENDOR_ORG, "Fullmakt Demoleverandør AS", "AS", None),
    (CUSTOMER_ORG, "Solstråle Bakeri AS", "AS", None),
    (CUSTOMER_BRANCH_ORG, "Solstråle Bakeri AS avd. Bergen", "BEDR", Some(CUSTOMER_ORG)),
    (ACCOUNTING_FIRM_ORG, "Fjellregnskap AS", "AS", None),
    (SOLE_PROPRIETOR_ORG, "Snekker Nordvik", "ENK", None),
    (HOUSING_COOP_ORG, "Borettslaget Utsikten", "BRL", None),
];

const DEMO_PERSONS: [(&str, &str); 3] =
    [(CUSTOMER_MANAGER_PID, "Kari Demo Solstråle"), (ACCOUNTANT_PID, "Ola Demo Fjell"), (COOP_CHAIR_PID, "Per Demo Nordvik")];

/// (unit, ER role, holder): the manager of the bakery, the accounting firm and its manager, the
/// sole proprietor's owner and the cooperative's chair, and the firm's client relations.
const DEMO_ROLES: [(&str, &str, RoleHolderSpec); 8] = [
    (CUSTOMER_ORG, "DAGL", RoleHolderSpec::Person(CUSTOMER_MANAGER_PID)),
    (ACCOUNTING_FIRM_ORG, "DAGL", RoleHolderSpec::Person(ACCOUNTANT_PID)),
    (SOLE_PROPRIETOR_ORG, "INNH", RoleHolderSpec::Person(COOP_CHAIR_PID)),
    (HOUSING_COOP_ORG, "LEDE", RoleHolderSpec::Person(COOP_CHAIR_PID)),
    (CUSTOMER_ORG, "REGN", RoleHolderSpec::Organisation(ACCOUNTING_FIRM_ORG)),
    (SOLE_PROPRIETOR_ORG, "REGN", RoleHolderSpec::Organisation(ACCOUNTING_FIRM_ORG)),
    (HOUSING_COOP_ORG, "FFØR", RoleHolderSpec::Organisation(ACCOUNTING_FIRM_ORG)),
    (HOUSING_COOP_ORG, "REGN", RoleHolderSpec::Organisation(ACCOUNTING_FIRM_ORG)),
];

#[derive(Clone, Copy)]
enum RoleHolderSpec {
    Person(&'static str),
    Organisation(&'static str),
}

/// Adds whatever of the demo register is missing.
async fn seed_register(store: &Store) -> Result<(), String> {
    for (orgno, name, unit_type, main_unit) in DEMO_ORGANISATIONS {
        let input = NewOrganisation {
            org_number: orgno.into(),
            name: name.into(),
            unit_type: Some(unit_type.into()),
            main_unit: main_unit.map(str::to_owned),
            ..Default::default()
        };
        match register::add_organisation(store, &input).await {
            Ok(_) | Err(RegisterError::OrganisationExists(_)) => {}
            Err(e) => return Err(format!("demo organisation {orgno}: {e}")),
        }
    }
    for (pid, name) in DEMO_PERSONS {
        let input = NewPerson { person_identifier: pid.into(), name: name.into(), ..Default::default() };
        match register::add_person(store, &input, SyntheticNumbers::Accept).await {
            Ok(_) | Err(RegisterError::PersonExists(_)) => {}
            Err(e) => return Err(format!("demo person {name}: {e}")),
        }
    }
    for (unit, role, holder) in DEMO_ROLES {
        let holder = match holder {
            RoleHolderSpec::Person(p) => RoleHolder::Person(p.into()),
            RoleHolderSpec::Organisation(o) => RoleHolder::Organisation(o.into()),
        };
        match register::add_role(store, &NewRole { unit: unit.into(), role: role.into(), holder }, SyntheticNumbers::Accept).await {
            Ok(_) | Err(RegisterError::RoleExists { .. }) => {}
            Err(e) => return Err(format!("demo role {role} in {unit}: {e}")),
        }
    }
    Ok(())
}

/// A Digdir resource whose policy lets the holder of the `lonn` package or the DAGL role read
/// and write, so a decision can be tried at once (see the printed example).
pub const DEMO_RESOURCE: &str = "demo-lonnsrapportering";

async fn seed_resource(store: &Store) -> Result<(), String> {
    use fullmakt_service::resource_registry::{self as registry, Writer};
    if store.resource(DEMO_RESOURCE).await.map_err(s)?.is_some() {
        return Ok(());
    }
    let resource = serde_json::json!({
        "identifier": DEMO_RESOURCE,
        "title": {"nb": "Lønnsrapportering (demo)", "nn": "Lønsrapportering (demo)", "en": "Payroll reporting (demo)"},
        "description": {"nb": "Demotjeneste for fullmakt", "nn": "Demoteneste for fullmakt", "en": "Demo service for fullmakt"},
        "rightDescription": {"nb": "Kan lese og sende lønnsrapporter", "nn": "Kan lese og sende lønsrapportar", "en": "May read and send payroll reports"},
        "contactPoints": [{"category": "Support", "email": "demo@example.com", "telephone": "", "contactPage": ""}],
        "hasCompetentAuthority": {"organization": DIGDIR_ORG, "orgcode": "digdir", "name": {"nb": "Digitaliseringsdirektoratet"}},
        "resourceType": "GenericAccessResource"
    });
    let resource = fullmakt_domain::resource::ServiceResource::from_json(resource.to_string().as_bytes()).map_err(s)?;
    registry::create_resource(store, Writer::Operator, &resource).await.map_err(s)?;
    registry::store_policy(store, Writer::Operator, DEMO_RESOURCE, &demo_policy()).await.map_err(s)?;
    Ok(())
}

fn demo_policy() -> String {
    fullmakt_service::resource_registry::altinn_policy(
        DEMO_RESOURCE,
        &[("urn:altinn:accesspackage", "lonn"), ("urn:altinn:rolecode", "DAGL")],
        &["read", "write"],
    )
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

    seed_register(store).await?;
    seed_resource(store).await?;
    let customer = register::find_party(store, &PartyLookup::OrgNumber(CUSTOMER_ORG.into())).await.map_err(s)?;
    let manager = register::find_party(store, &PartyLookup::PersonIdentifier(CUSTOMER_MANAGER_PID.into())).await.map_err(s)?;

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
    let _ = writeln!(out, "  register:         {} organisations, {} persons (synthetic numbers), {} ER roles", DEMO_ORGANISATIONS.len(), DEMO_PERSONS.len(), DEMO_ROLES.len());
    let _ = writeln!(out, "    customer {CUSTOMER_ORG} Solstråle Bakeri AS (party id {}), DAGL {CUSTOMER_MANAGER_PID}, branch {CUSTOMER_BRANCH_ORG}", customer.party_id);
    let _ = writeln!(out, "    accounting firm {ACCOUNTING_FIRM_ORG}: REGN for {CUSTOMER_ORG} and {SOLE_PROPRIETOR_ORG}, FFØR and REGN for {HOUSING_COOP_ORG} (BRL)");
    let _ = writeln!(out, "    see one: fullmakt admin register show --orgno {ACCOUNTING_FIRM_ORG}");
    let _ = writeln!(out, "  access packages:  {issuer}accessmanagement/api/v1/meta/info/accesspackages/export");
    let _ = writeln!(out, "  resource:         {issuer}resourceregistry/api/v1/resource/{DEMO_RESOURCE} (policy: package lonn or role DAGL may read and write)");
    let _ = writeln!(out, "    the bakery's manager (user id {}) is permitted: POST {{\"Request\":…}} to {issuer}authorization/api/v1/decision", manager.party_id);
    let _ = writeln!(out, "  person token:     fullmakt admin test-token person --pid {CUSTOMER_MANAGER_PID}   (the bakery's manager; 30 minutes)");
    let _ = writeln!(out, "    use it as Authorization: Bearer or the AltinnStudioRuntime cookie; Altinn issuer {issuer}authentication/api/v1/openid/");
    let _ = writeln!(out, "  browser login:    {issuer}authentication/api/v1/authentication?goto=/authentication/api/v1/refresh");
    let _ = writeln!(out, "    choose a demo person at the built-in test identity provider; refresh then shows your person token");
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
