//! `fullmakt admin …`: operator commands on the configured database. They print JSON on
//! stdout; their names and flags are stable because operators and tests script them.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use fullmakt_domain::OrganisationNumber;
use fullmakt_service::admin::{clients, scopes, ClientInput, ScopeInput};

use crate::config::StoreArgs;

#[derive(Args, Debug)]
pub struct AdminArgs {
    #[command(flatten)]
    pub store: StoreArgs,
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
    };
    store.close().await;
    result
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
