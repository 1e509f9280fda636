//! The `fullmakt` application: wiring of store, services and HTTP, the CLI commands, and
//! the demo seed. A library as well as a binary so end-to-end tests start the real server.

pub mod admin;
pub mod config;
pub mod demo;
pub mod journey;
pub mod log_writer;
pub mod jwks_fetch;
pub mod oidc_http;
pub mod serve;
pub mod upkeep;
pub mod xacml_cli;
