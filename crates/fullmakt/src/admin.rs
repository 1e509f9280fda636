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
    };
    store.close().await;
    result
}
