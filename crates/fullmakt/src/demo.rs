//! `serve --demo`: a demo Digdir organisation owning the Altinn and admin scopes, a demo
//! vendor with access to them, an admin client for the vendor whose private key is written to
//! the demo directory, and a small register: a customer company with its general manager and a
//! branch, an accounting firm that is REGN for two clients and FFØR for a housing cooperative.
//! For agent system users it adds the vendor's agent system with a client and key of its own,
//! and two resources whose policies name the client packages.
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
/// Payroll reporting for an accounting firm's clients: the policy names the client package
/// `regnskapsforer-lonn`, which an agent system user holds for the clients added to it.
pub const CLIENT_PAYROLL_RESOURCE: &str = "demo-klient-lonn";
/// Property management for a business manager's clients: the policy names
/// `forretningsforer-eiendom`.
pub const PROPERTY_MANAGEMENT_RESOURCE: &str = "demo-forretningsforer";

/// What the catalogue says about the firm's clients (data/catalogue/role-packages.json, checked
/// by the test below): REGN gives `regnskapsforer-lonn` with no organisation-form limit, so all
/// three REGN clients — the bakery (AS), the carpenter (ENK) and the cooperative (BRL) — can be
/// added to an agent system user holding it. FFØR gives `forretningsforer-eiendom` only for ESEK
/// and BRL units, so of the firm's clients only the cooperative has it.
pub const CLIENT_PACKAGE: &str = "regnskapsforer-lonn";
pub const PROPERTY_PACKAGE: &str = "forretningsforer-eiendom";

struct DemoResource {
    id: &'static str,
    /// bokmål, nynorsk, English
    title: [&'static str; 3],
    right_description: [&'static str; 3],
    /// The policy's subjects; each may read and write.
    subjects: &'static [(&'static str, &'static str)],
}

const DEMO_RESOURCES: [DemoResource; 3] = [
    DemoResource {
        id: DEMO_RESOURCE,
        title: ["Lønnsrapportering (demo)", "Lønsrapportering (demo)", "Payroll reporting (demo)"],
        right_description: ["Kan lese og sende lønnsrapporter", "Kan lese og sende lønsrapportar", "May read and send payroll reports"],
        subjects: &[("urn:altinn:accesspackage", "lonn"), ("urn:altinn:rolecode", "DAGL")],
    },
    DemoResource {
        id: CLIENT_PAYROLL_RESOURCE,
        title: ["Lønn for klienter (demo)", "Løn for klientar (demo)", "Payroll for clients (demo)"],
        right_description: [
            "Regnskapsfører kan lese og sende lønnsrapporter for klienten",
            "Rekneskapsførar kan lese og sende lønsrapportar for klienten",
            "The accountant may read and send payroll reports for the client",
        ],
        subjects: &[("urn:altinn:accesspackage", CLIENT_PACKAGE)],
    },
    DemoResource {
        id: PROPERTY_MANAGEMENT_RESOURCE,
        title: ["Forretningsførsel eiendom (demo)", "Forretningsførsel eigedom (demo)", "Property management (demo)"],
        right_description: [
            "Forretningsfører kan lese og sende for sameiet eller borettslaget",
            "Forretningsførar kan lese og sende for sameiget eller burettslaget",
            "The business manager may read and send for the co-ownership or housing cooperative",
        ],
        subjects: &[("urn:altinn:accesspackage", PROPERTY_PACKAGE)],
    },
];

async fn seed_resources(store: &Store) -> Result<(), String> {
    use fullmakt_service::resource_registry::{self as registry, Writer};
    for demo in &DEMO_RESOURCES {
        if store.resource(demo.id).await.map_err(s)?.is_some() {
            continue;
        }
        let [nb, nn, en] = demo.title;
        let [right_nb, right_nn, right_en] = demo.right_description;
        let resource = serde_json::json!({
            "identifier": demo.id,
            "title": {"nb": nb, "nn": nn, "en": en},
            "description": {"nb": "Demotjeneste for fullmakt", "nn": "Demoteneste for fullmakt", "en": "Demo service for fullmakt"},
            "rightDescription": {"nb": right_nb, "nn": right_nn, "en": right_en},
            "contactPoints": [{"category": "Support", "email": "demo@example.com", "telephone": "", "contactPage": ""}],
            "hasCompetentAuthority": {"organization": DIGDIR_ORG, "orgcode": "digdir", "name": {"nb": "Digitaliseringsdirektoratet"}},
            "resourceType": "GenericAccessResource"
        });
        let resource = fullmakt_domain::resource::ServiceResource::from_json(resource.to_string().as_bytes()).map_err(s)?;
        registry::create_resource(store, Writer::Operator, &resource).await.map_err(s)?;
        let policy = registry::altinn_policy(demo.id, demo.subjects, &["read", "write"]);
        registry::store_policy(store, Writer::Operator, demo.id, &policy).await.map_err(s)?;
    }
    Ok(())
}

/// The vendor's system for agent system users: an accounting firm's system user that acts for
/// the firm's clients with `regnskapsforer-lonn`.
pub const AGENT_SYSTEM_NAME: &str = "demo_regnskap";
pub const AGENT_CLIENT_NAME: &str = "fullmakt demo agent system";
/// The agent system's client only needs a scope to ask for in its system-user tokens.
const AGENT_CLIENT_SCOPES: [&str; 2] = ["altinn:instances.read", "altinn:instances.write"];

pub fn agent_system_id() -> String {
    format!("{VENDOR_ORG}_{AGENT_SYSTEM_NAME}")
}

/// Registers the agent system on `client_id` unless a system with its id exists (deleted or not:
/// an operator who deleted it meant to).
async fn seed_agent_system(store: &Store, client_id: &str) -> Result<(), String> {
    use fullmakt_service::system_register::{self as systems, Actor};
    let id = agent_system_id();
    if store.system(&id).await.map_err(s)?.is_some() {
        return Ok(());
    }
    let request = serde_json::json!({
        "id": id,
        "vendor": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{VENDOR_ORG}")},
        "name": {"nb": "Demo Regnskap", "nn": "Demo Rekneskap", "en": "Demo Regnskap"},
        "description": {
            "nb": "Demosystem for regnskapsførere: lønn for klientene",
            "nn": "Demosystem for rekneskapsførarar: løn for klientane",
            "en": "Demo system for accountants: payroll for their clients"
        },
        "rights": [],
        "accessPackages": [{"urn": format!("urn:altinn:accesspackage:{CLIENT_PACKAGE}")}],
        "clientId": [client_id],
        // Not visible: a system with client packages must not be (VLD-18). Agent system users
        // come from vendors' requests only, never from the portal's list of systems to create.
        "isVisible": false
    });
    let request = fullmakt_domain::system_register::RegisterSystemRequest::from_json(request.to_string().as_bytes()).map_err(s)?;
    systems::create_system(store, Actor::Operator, &request).await.map_err(|e| format!("the demo agent system: {e}"))?;
    Ok(())
}

/// A Maskinporten client of the vendor named `name` with a key pair whose private half is at
/// `key_path`: the existing client when both it and the key file are there, else a new key
/// (on the existing client, or on a new one). Returns the client id and the key's kid.
async fn seed_client(store: &Store, name: &str, description: &str, scopes: &[&str], kid: &str, key_path: &Path, env_path: &Path) -> Result<(String, String), String> {
    let vendor = OrganisationNumber::parse(VENDOR_ORG).map_err(s)?;
    let existing = store.clients_of_org(VENDOR_ORG).await.map_err(s)?.into_iter().find(|c| c.client_name == name);
    match existing {
        Some(client) if key_path.exists() && env_path.exists() => {
            let kid = store.client_keys(&client.client_id).await.map_err(s)?.first().map(|k| k.kid.clone()).unwrap_or_default();
            Ok((client.client_id, kid))
        }
        existing => {
            // A new key pair; only the public half goes into the database.
            let key = SigningKey::generate(RsaKeySize::Rsa2048).map_err(s)?;
            let mut jwk = serde_json::to_value(key.public_jwk()).map_err(s)?;
            jwk["kid"] = serde_json::json!(kid);
            let jwks = serde_json::json!({ "keys": [jwk] });
            let client_id = match existing {
                Some(client) => {
                    clients::set_jwks(store, &client.client_id, &jwks).await.map_err(s)?;
                    client.client_id
                }
                None => {
                    let input = ClientInput {
                        client_name: Some(name.into()),
                        description: Some(description.into()),
                        scopes: Some(scopes.iter().map(|s| s.to_string()).collect()),
                        ..Default::default()
                    };
                    clients::create_client(store, vendor, &input, Some(&jwks)).await.map_err(s)?.client_id
                }
            };
            write_private_key(key_path, &key.to_pkcs8().map_err(s)?)?;
            Ok((client_id, kid.to_owned()))
        }
    }
}

/// The settings `scripts/make-grant.sh` and `fullmakt demo` read.
fn write_settings(env_path: &Path, client_id: &str, kid: &str, key_path: &Path, issuer: &str) -> Result<(), String> {
    let env = format!(
        "# Written by fullmakt serve --demo. Used by scripts/make-grant.sh.\nCLIENT_ID={client_id}\nKID={kid}\nKEY_FILE={}\nISSUER={issuer}\nTOKEN_ENDPOINT={issuer}token\n",
        key_path.display()
    );
    std::fs::write(env_path, env).map_err(|e| format!("writing {}: {e}", env_path.display()))
}

pub async fn seed(store: &Store, public_url: &str, dir: &Path) -> Result<String, String> {
    let digdir = OrganisationNumber::parse(DIGDIR_ORG).map_err(s)?;
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
    seed_resources(store).await?;
    let customer = register::find_party(store, &PartyLookup::OrgNumber(CUSTOMER_ORG.into())).await.map_err(s)?;
    let manager = register::find_party(store, &PartyLookup::PersonIdentifier(CUSTOMER_MANAGER_PID.into())).await.map_err(s)?;

    std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let issuer = fullmakt_service::issuer_from_public_url(public_url);
    let key_path = dir.join("vendor-admin-key.pem");
    let env_path = dir.join("vendor-admin.env");
    let description = "Admin client of the demo vendor, seeded by fullmakt serve --demo";
    let (client_id, kid) = seed_client(store, VENDOR_CLIENT_NAME, description, &VENDOR_SCOPES, "demo-vendor-admin-1", &key_path, &env_path).await?;
    write_settings(&env_path, &client_id, &kid, &key_path, &issuer)?;

    // The agent system gets a client of its own: a client id belongs to at most one system
    // (VLD-04), `fullmakt demo` registers its standard system on the admin client, and the token
    // service finds a system user's system by the grant's client. With its own client and key the
    // vendor can ask for the agent's system-user token while the journey's system stays as it is.
    let agent_key_path = dir.join("agent-system-key.pem");
    let agent_env_path = dir.join("agent-system.env");
    let description = "Client of the demo vendor's agent system (Demo Regnskap), seeded by fullmakt serve --demo";
    let (agent_client_id, agent_kid) =
        seed_client(store, AGENT_CLIENT_NAME, description, &AGENT_CLIENT_SCOPES, "demo-agent-system-1", &agent_key_path, &agent_env_path).await?;
    write_settings(&agent_env_path, &agent_client_id, &agent_kid, &agent_key_path, &issuer)?;
    seed_agent_system(store, &agent_client_id).await?;

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
    let system_id = agent_system_id();
    let _ = writeln!(out, "Agent system users (the accounting firm {ACCOUNTING_FIRM_ORG} acting for its clients; README.md, 'Agent system users'):");
    let _ = writeln!(out, "  agent system:     {system_id} (Demo Regnskap, package {CLIENT_PACKAGE}), client id {agent_client_id} (kid {agent_kid})");
    let _ = writeln!(out, "    settings:       {}", agent_env_path.display());
    let _ = writeln!(out, "  resources:        {CLIENT_PAYROLL_RESOURCE} (package {CLIENT_PACKAGE}), {PROPERTY_MANAGEMENT_RESOURCE} (package {PROPERTY_PACKAGE})");
    let _ = writeln!(out, "    REGN gives {CLIENT_PACKAGE} for every organisation form: {CUSTOMER_ORG} (AS), {SOLE_PROPRIETOR_ORG} (ENK), {HOUSING_COOP_ORG} (BRL)");
    let _ = writeln!(out, "    FFØR gives {PROPERTY_PACKAGE} only for ESEK and BRL units: {HOUSING_COOP_ORG}");
    let _ = writeln!(out, "  1. the vendor (a token from {} with altinn:authentication/systemuser.request.write) asks the firm:", env_path.display());
    let _ = writeln!(out, "     POST {issuer}authentication/api/v1/systemuser/request/vendor/agent");
    let _ = writeln!(out, "     {{\"systemId\":\"{system_id}\",\"partyOrgNo\":\"{ACCOUNTING_FIRM_ORG}\",\"accessPackages\":[{{\"urn\":\"urn:altinn:accesspackage:{CLIENT_PACKAGE}\"}}]}}");
    let _ = writeln!(out, "  2. the firm's manager, Ola Demo Fjell ({ACCOUNTANT_PID}), approves at the answer's confirmUrl:");
    let _ = writeln!(out, "     {issuer}accessmanagement/ui/systemuser/agentrequest?id=REQUEST_ID");
    let _ = writeln!(out, "  3. he adds clients at {issuer}accessmanagement/ui/systemuser/SYSTEM_USER_ID/agentdelegation");
    let _ = writeln!(out, "  4. the vendor's system-user token for the firm, and the PDP permits {CLIENT_PAYROLL_RESOURCE} for exactly the clients added:");
    let _ = writeln!(
        out,
        "     scripts/make-grant.sh {} 'altinn:instances.read' '[{{\"type\":\"urn:altinn:systemuser\",\"systemuser_org\":{{\"authority\":\"iso6523-actorid-upis\",\"ID\":\"0192:{ACCOUNTING_FIRM_ORG}\"}}}}]'",
        agent_env_path.display()
    );
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

#[cfg(test)]
mod tests {
    use fullmakt_domain::Catalogue;

    use super::*;

    /// The walkthrough's claims about which of the firm's clients can be added to which agent.
    #[test]
    fn the_catalogue_gives_the_firms_clients_the_packages_the_walkthrough_names() {
        let catalogue = Catalogue::embedded();
        let package = |code: &str| catalogue.package_by_urn(code).unwrap().index;
        let gives = |role: &str, package: fullmakt_domain::catalogue::PackageIndex, form: Option<&str>| {
            catalogue.packages_given_by_role(catalogue.er_role(role).unwrap().index, form).contains(package)
        };
        let (client, property) = (package(CLIENT_PACKAGE), package(PROPERTY_PACKAGE));
        for form in [Some("AS"), Some("ENK"), Some("BRL"), None] {
            assert!(gives("REGN", client, form), "REGN for {form:?}");
        }
        for form in [Some("BRL"), Some("ESEK")] {
            assert!(gives("FFØR", property, form), "FFØR for {form:?}");
        }
        for form in [Some("AS"), Some("ENK"), None] {
            assert!(!gives("FFØR", property, form), "FFØR for {form:?}");
        }
        assert!(!gives("FFØR", client, Some("BRL")) && !gives("REGN", property, Some("BRL")));
        // Client packages go to agents only: delegable, never assignable (so never on a standard request).
        for p in [client, property] {
            let p = catalogue.package(p);
            assert!(p.is_delegable && !p.is_assignable && p.is_available_for_service_owners, "{}", p.code);
        }
    }
}
