//! End-to-end tests: the real server on a loopback port, over SQLite and (when configured)
//! PostgreSQL. See harness.rs for how stores are chosen.

mod admin_api;
mod altinn_tokens;
mod approval;
mod browser;
mod browser_login;
mod browser_portal;
mod client_delegation;
mod client_administration;
mod decisions;
mod demo;
mod harness;
mod interop;
mod key_rotation;
mod login;
mod operations;
mod portal;
mod register;
mod requests;
mod resource_registry;
mod system_register;
mod token_claims;
mod token_grant;
mod two_nodes;
mod xacml_cli;
