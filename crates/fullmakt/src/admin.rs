//! `fullmakt admin …`: operator commands on the configured database. They print JSON on
//! stdout (except `test-token`, which prints the bare token for `$(…)`); their names and flags
//! are stable because operators and tests script them.

use std::path::PathBuf;

use clap::{ArgGroup, Args, Subcommand};
use fullmakt_domain::{OrganisationNumber, SyntheticNumbers};
use fullmakt_service::admin::{clients, scopes, ClientInput, ScopeInput};
use fullmakt_service::register::{self, import, NewOrganisation, NewPerson, NewRole, PartyLookup, RoleHolder};

use crate::config::StoreArgs;

#[derive(Args, Debug)]
pub struct AdminArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Test-data mode: accept synthetic person numbers (Tenor's month + 80). Set it the same way
    /// as for `serve` (FULLMAKT_TEST_DATA), so the CLI and the server agree about the instance.
    #[arg(long, global = true, env = "FULLMAKT_TEST_DATA", value_parser = clap::builder::BoolishValueParser::new())]
    pub test_data: bool,
    #[command(subcommand)]
    pub command: AdminCommand,
}

#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Maskinporten clients.
    #[command(subcommand)]
    Client(ClientCommand),
    /// Scopes and scope access.
    #[command(subcommand)]
    Scope(ScopeCommand),
    /// Access-token signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Resource registry: service resources and their policies.
    #[command(subcommand)]
    Resource(ResourceCommand),
    /// The register: organisations, persons and ER roles.
    #[command(subcommand)]
    Register(RegisterCommand),
    /// Grants: access packages and resource rights from a party to a person, organisation or system user.
    #[command(subcommand)]
    Grant(GrantCommand),
    /// Test tokens, for an instance that runs with test data only (`serve --test-data` or `--demo`).
    #[command(subcommand)]
    TestToken(TestTokenCommand),
    /// The system register: vendors' systems, as the Authentication API writes them.
    #[command(subcommand)]
    System(SystemCommand),
}

#[derive(Subcommand, Debug)]
pub enum SystemCommand {
    /// Register a system from a RegisterSystemRequest JSON file (every API rule applies; the
    /// operator may write for any vendor); prints the stored system.
    Create {
        #[arg(long)]
        file: PathBuf,
    },
    /// Show a system, deleted or not.
    Show {
        /// The system id, `<vendor orgno>_<name>`.
        #[arg(long)]
        id: String,
    },
    /// Delete a system: it is hidden from lists and its client ids are freed; its id stays taken.
    Delete {
        #[arg(long)]
        id: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum TestTokenCommand {
    /// Print an Altinn person token (30 minutes, scope altinn:portal/enduser) for a person in the
    /// register, signed for the issuer of the server that last started on this database.
    Person {
        /// The person's person number or D-number.
        #[arg(long)]
        pid: String,
        /// urn:altinn:authlevel, 0 to 4.
        #[arg(long, default_value_t = 3)]
        auth_level: u8,
    },
}

/// `urn:altinn:authenticatemethod` of CLI test tokens: Altinn's value for "the login did not say".
pub const TEST_TOKEN_AUTHENTICATION_METHOD: &str = "NotDefined";

#[derive(Subcommand, Debug)]
pub enum GrantCommand {
    /// Give an access package (as rettighetshaver).
    Package {
        /// The organisation that gives (organisation number).
        #[arg(long)]
        from: String,
        /// Person number, organisation number, or a system user's id (UUID).
        #[arg(long)]
        to: String,
        /// The package: its URN, `:code` or code.
        #[arg(long)]
        package: String,
    },
    /// Give one right: an action on a registry resource.
    Right {
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        #[arg(long)]
        resource: String,
        #[arg(long)]
        action: String,
    },
    /// Take back an access package.
    RevokePackage {
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        #[arg(long)]
        package: String,
    },
    /// Take back one right.
    RevokeRight {
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        #[arg(long)]
        resource: String,
        #[arg(long)]
        action: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum ResourceCommand {
    /// Create a resource from a ServiceResource JSON file, with its XACML policy.
    Create {
        /// The ServiceResource document (JSON), as POST /resourceregistry/api/v1/resource takes it.
        #[arg(long)]
        file: PathBuf,
        /// The resource's XACML 3.0 policy; every rule must name this resource.
        #[arg(long)]
        policy: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
pub enum RegisterCommand {
    /// Add an organisation (a unit of Enhetsregisteret); prints the party.
    AddOrg {
        #[arg(long)]
        orgno: String,
        #[arg(long)]
        name: String,
        /// Organisation form: AS, ENK, NUF, BEDR, ESEK, BRL, …
        #[arg(long = "type")]
        unit_type: Option<String>,
        /// The main unit's organisation number, for a sub-unit.
        #[arg(long)]
        parent: Option<String>,
        /// Keep this Altinn party id (assigned from 50000000 up when absent).
        #[arg(long)]
        party_id: Option<i64>,
        /// Keep this party uuid (random when absent).
        #[arg(long)]
        party_uuid: Option<String>,
    },
    /// Add a person; prints the party.
    AddPerson {
        /// Person number (fødselsnummer) or D-number.
        #[arg(long)]
        pid: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        party_id: Option<i64>,
        #[arg(long)]
        party_uuid: Option<String>,
    },
    /// Record that a person or unit holds an ER role in a unit; prints the role.
    #[command(group(ArgGroup::new("holder").required(true).args(["to_person", "to_org"])))]
    AddRole {
        /// The unit's organisation number.
        #[arg(long)]
        from: String,
        /// ER role: DAGL, LEDE, REGN, REVI, FFØR, … (any case), or its catalogue code or URN.
        #[arg(long)]
        role: String,
        #[arg(long)]
        to_person: Option<String>,
        #[arg(long)]
        to_org: Option<String>,
    },
    /// End a person's or unit's ER role in a unit (the same arguments as add-role); prints the
    /// removed role. What the role gave its holder ends with it, from the next decision on.
    #[command(group(ArgGroup::new("holder").required(true).args(["to_person", "to_org"])))]
    RemoveRole {
        /// The unit's organisation number.
        #[arg(long)]
        from: String,
        /// ER role: DAGL, LEDE, REGN, REVI, FFØR, … (any case), or its catalogue code or URN.
        #[arg(long)]
        role: String,
        #[arg(long)]
        to_person: Option<String>,
        #[arg(long)]
        to_org: Option<String>,
    },
    /// Import organisations, persons and roles from a JSON-lines file (docs/register-import.md);
    /// prints a summary with counts, seconds and rows/s.
    Import {
        file: PathBuf,
        /// Rows written per transaction.
        #[arg(long, default_value_t = import::DEFAULT_ROWS_PER_TRANSACTION)]
        rows_per_transaction: usize,
    },
    /// Show a party with its sub-units and ER roles.
    #[command(group(ArgGroup::new("key").required(true).args(["orgno", "pid", "party_id", "party_uuid"])))]
    Show {
        #[arg(long)]
        orgno: Option<String>,
        #[arg(long)]
        pid: Option<String>,
        #[arg(long)]
        party_id: Option<i64>,
        #[arg(long)]
        party_uuid: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum ClientCommand {
    /// Create a client with a JWKS of public keys.
    Create {
        #[arg(long)]
        org: String,
        #[arg(long)]
        name: String,
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// File with a JWKS {"keys":[…]} of 1 to 5 public RSA keys.
        #[arg(long)]
        jwks: PathBuf,
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        access_token_lifetime: Option<i64>,
    },
    /// List an organisation's active clients.
    List {
        #[arg(long)]
        org: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum ScopeCommand {
    /// Create a scope; assigns the prefix to the owner when it is free.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        owner: String,
        #[arg(long)]
        accessible_for_all: bool,
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        at_max_age: Option<i64>,
    },
    /// Grant an organisation access to a scope.
    Grant {
        #[arg(long)]
        scope: String,
        #[arg(long)]
        org: String,
    },
    /// Revoke an organisation's access to a scope.
    Revoke {
        #[arg(long)]
        scope: String,
        #[arg(long)]
        org: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Promote the pre-published next key to active and publish a new next key.
    Rotate,
}

fn org(s: &str) -> Result<OrganisationNumber, String> {
    OrganisationNumber::parse(s).map_err(|e| format!("organisation number {s}: {e}"))
}

fn print(value: impl serde::Serialize) -> Result<(), String> {
    println!("{}", serde_json::to_string_pretty(&value).map_err(|e| e.to_string())?);
    Ok(())
}

pub async fn run(args: AdminArgs) -> Result<(), String> {
    let (store, ring) = args.store.open().await?;
    let synthetic = SyntheticNumbers::accept_if(args.test_data);
    let result = match args.command {
        AdminCommand::Client(ClientCommand::Create { org: o, name, scopes, jwks, description, access_token_lifetime }) => {
            let text = std::fs::read_to_string(&jwks).map_err(|e| format!("reading {}: {e}", jwks.display()))?;
            let jwks: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", jwks.display()))?;
            let input = ClientInput {
                client_name: Some(name),
                description,
                scopes: Some(scopes),
                access_token_lifetime,
                ..Default::default()
            };
            print(clients::create_client(&store, org(&o)?, &input, Some(&jwks)).await.map_err(|e| e.to_string())?)
        }
        AdminCommand::Client(ClientCommand::List { org: o }) => {
            print(clients::list_clients(&store, org(&o)?).await.map_err(|e| e.to_string())?)
        }
        AdminCommand::Scope(ScopeCommand::Create { name, owner, accessible_for_all, description, at_max_age }) => {
            let input = ScopeInput {
                name: Some(name),
                description,
                accessible_for_all: Some(accessible_for_all),
                at_max_age,
                ..Default::default()
            };
            print(scopes::create_scope(&store, org(&owner)?, &input, true).await.map_err(|e| e.to_string())?)
        }
        AdminCommand::Scope(ScopeCommand::Grant { scope, org: o }) => {
            print(scopes::set_access(&store, &scope, &o, true).await.map_err(|e| e.to_string())?)
        }
        AdminCommand::Scope(ScopeCommand::Revoke { scope, org: o }) => {
            print(scopes::set_access(&store, &scope, &o, false).await.map_err(|e| e.to_string())?)
        }
        AdminCommand::Keys(KeysCommand::Rotate) => print(ring.rotate().await.map_err(|e| e.to_string())?),
        AdminCommand::Resource(ResourceCommand::Create { file, policy }) => create_resource(&store, &file, policy.as_deref()).await,
        AdminCommand::Register(command) => run_register(&store, command, synthetic).await,
        AdminCommand::Grant(command) => run_grant(&store, command).await,
        AdminCommand::TestToken(TestTokenCommand::Person { pid, auth_level }) => person_test_token(&store, ring, &pid, auth_level).await,
        AdminCommand::System(command) => run_system(&store, command).await,
    };
    store.close().await;
    result
}

async fn person_test_token(store: &fullmakt_store::Store, ring: fullmakt_service::KeyRing, pid: &str, auth_level: u8) -> Result<(), String> {
    println!("{}", mint_test_person_token(store, ring, pid, auth_level).await?);
    Ok(())
}

/// A person token, only for an instance whose server recorded test-data mode at its latest
/// start: a production instance never gets a token minted outside a login.
pub async fn mint_test_person_token(store: &fullmakt_store::Store, ring: fullmakt_service::KeyRing, pid: &str, auth_level: u8) -> Result<String, String> {
    use fullmakt_service::{instance, issuer_from_public_url, AccessTokenVerifier, AltinnTokenService, PersonTokenRequest};
    let mode = instance::recorded(store).await.map_err(|e| e.to_string())?.ok_or(
        "no server has started on this database yet, so it is not known to run with test data; \
         start `fullmakt serve --test-data` (or --demo) on it first",
    )?;
    if !mode.test_data {
        return Err("this instance does not run with test data (its server last started without --test-data or --demo); \
                    test tokens are issued only for test-data instances"
            .into());
    }
    let ring = std::sync::Arc::new(ring);
    let verifier = AccessTokenVerifier::new(store.clone(), issuer_from_public_url(&mode.public_url), ring.clone(), Vec::new());
    let altinn = AltinnTokenService::new(store.clone(), ring, std::sync::Arc::new(verifier));
    let request = PersonTokenRequest { pid, auth_level, authentication_method: TEST_TOKEN_AUTHENTICATION_METHOD, session_id: None };
    Ok(altinn.issue_person_token(&request).await.map_err(|e| e.to_string())?.token)
}

fn read(path: &std::path::Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))
}

/// Validates both documents before writing either, so a bad policy leaves no resource behind.
async fn create_resource(store: &fullmakt_store::Store, file: &std::path::Path, policy: Option<&std::path::Path>) -> Result<(), String> {
    use fullmakt_service::resource_registry::{self as registry, Writer};
    let resource = fullmakt_domain::resource::ServiceResource::from_json(read(file)?.as_bytes())
        .map_err(|e| format!("{} is not a valid ServiceResource: {e}", file.display()))?;
    let policy = match policy {
        Some(path) => {
            let xml = read(path)?;
            registry::parse_resource_policy(resource.identifier(), &xml).map_err(|e| format!("{}: {e}", path.display()))?;
            Some(xml)
        }
        None => None,
    };
    let created = registry::create_resource(store, Writer::Operator, &resource).await.map_err(|e| e.to_string())?;
    if let Some(xml) = policy {
        registry::store_policy(store, Writer::Operator, created.identifier(), &xml).await.map_err(|e| e.to_string())?;
    }
    print(registry::get_resource(store, created.identifier(), None).await.map_err(|e| e.to_string())?)
}

fn role_holder(to_person: Option<String>, to_org: Option<String>) -> Result<RoleHolder, String> {
    match (to_person, to_org) {
        (Some(pid), _) => Ok(RoleHolder::Person(pid)),
        (None, Some(org)) => Ok(RoleHolder::Organisation(org)),
        (None, None) => Err("give --to-person PID or --to-org ORGNO".into()),
    }
}

async fn run_register(store: &fullmakt_service::Store, command: RegisterCommand, synthetic: SyntheticNumbers) -> Result<(), String> {
    let e = |e: register::RegisterError| e.to_string();
    match command {
        RegisterCommand::AddOrg { orgno, name, unit_type, parent, party_id, party_uuid } => {
            let input = NewOrganisation { org_number: orgno, name, unit_type, main_unit: parent, party_id, party_uuid };
            print(register::add_organisation(store, &input).await.map_err(e)?)
        }
        RegisterCommand::AddPerson { pid, name, party_id, party_uuid } => {
            let input = NewPerson { person_identifier: pid, name, party_id, party_uuid };
            print(register::add_person(store, &input, synthetic).await.map_err(e)?)
        }
        RegisterCommand::AddRole { from, role, to_person, to_org } => {
            let holder = role_holder(to_person, to_org)?;
            print(register::add_role(store, &NewRole { unit: from, role, holder }, synthetic).await.map_err(e)?)
        }
        RegisterCommand::RemoveRole { from, role, to_person, to_org } => {
            let holder = role_holder(to_person, to_org)?;
            print(register::remove_role(store, &NewRole { unit: from, role, holder }, synthetic).await.map_err(e)?)
        }
        RegisterCommand::Import { file, rows_per_transaction } => {
            let options = import::ImportOptions { synthetic, rows_per_transaction };
            print(import::import_file(store, &file, options).await.map_err(|e| e.to_string().trim_end().to_owned())?)
        }
        RegisterCommand::Show { orgno, pid, party_id, party_uuid } => {
            let lookup = match (orgno, pid, party_id, party_uuid) {
                (Some(o), ..) => PartyLookup::OrgNumber(o),
                (_, Some(p), ..) => PartyLookup::PersonIdentifier(p),
                (_, _, Some(id), _) => PartyLookup::PartyId(id),
                (_, _, _, Some(u)) => PartyLookup::PartyUuid(u),
                _ => return Err("give --orgno, --pid, --party-id or --party-uuid".into()),
            };
            print(register::party_details(store, &lookup).await.map_err(e)?)
        }
    }
}

async fn run_grant(store: &fullmakt_store::Store, command: GrantCommand) -> Result<(), String> {
    use fullmakt_service::grants;
    let catalogue = fullmakt_domain::Catalogue::embedded();
    let outcome = match command {
        GrantCommand::Package { from, to, package } => {
            let from = grants::organisation(store, &from).await.map_err(|e| e.to_string())?;
            let to = grants::resolve_recipient(store, &to).await.map_err(|e| e.to_string())?;
            grants::grant_package(store, catalogue, &from, &to, &package).await
        }
        GrantCommand::Right { from, to, resource, action } => {
            let from = grants::organisation(store, &from).await.map_err(|e| e.to_string())?;
            let to = grants::resolve_recipient(store, &to).await.map_err(|e| e.to_string())?;
            grants::grant_right(store, &from, &to, &resource, &action).await
        }
        GrantCommand::RevokePackage { from, to, package } => {
            let from = grants::organisation(store, &from).await.map_err(|e| e.to_string())?;
            let to = grants::resolve_recipient(store, &to).await.map_err(|e| e.to_string())?;
            grants::revoke_package(store, catalogue, &from, &to, &package).await.map_err(|e| e.to_string())?;
            return print(serde_json::json!({"revoked": true, "package": package}));
        }
        GrantCommand::RevokeRight { from, to, resource, action } => {
            let from = grants::organisation(store, &from).await.map_err(|e| e.to_string())?;
            let to = grants::resolve_recipient(store, &to).await.map_err(|e| e.to_string())?;
            grants::revoke_right(store, &from, &to, &resource, &action).await.map_err(|e| e.to_string())?;
            return print(serde_json::json!({"revoked": true, "resource": resource, "action": action}));
        }
    };
    print(outcome.map_err(|e| e.to_string())?)
}

async fn run_system(store: &fullmakt_store::Store, command: SystemCommand) -> Result<(), String> {
    use fullmakt_service::system_register::{self as systems, Actor};
    let e = |e: fullmakt_service::AuthError| e.to_string();
    let id = match command {
        SystemCommand::Create { file } => {
            let request = fullmakt_domain::system_register::RegisterSystemRequest::from_json(read(&file)?.as_bytes())
                .map_err(|e| format!("{} is not a valid RegisterSystemRequest: {e}", file.display()))?;
            systems::create_system(store, Actor::Operator, &request).await.map_err(e)?;
            request.id
        }
        SystemCommand::Show { id } => id,
        SystemCommand::Delete { id } => {
            systems::delete_system(store, Actor::Operator, &id).await.map_err(e)?;
            id
        }
    };
    let system = systems::find_system(store, &id).await.map_err(e)?.ok_or_else(|| format!("no system with id {id}"))?;
    print(system.response())
}
