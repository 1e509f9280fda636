//! `fullmakt xacml evaluate`: decides a request against a policy offline, with the same engine
//! the PDP uses, and prints the response in the request's format (XACML XML for an XML
//! request, Altinn's JSON for a JSON request). A policy or request that cannot be read is
//! answered as the decision API answers it: Indeterminate with `syntax-error`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use fullmakt_xacml::altinn::echoes_attributes;
use fullmakt_xacml::{
    parse_policy, parse_request_json, parse_request_xml, response_to_altinn_json, response_to_xml,
    DateTime, DecisionResult, Pdp, PolicyDocument, Request, RequestFormat, Response, StatusCode,
};

#[derive(Args, Debug)]
pub struct XacmlArgs {
    #[command(subcommand)]
    pub command: XacmlCommand,
}

#[derive(Subcommand, Debug)]
pub enum XacmlCommand {
    /// Evaluate a request against a policy and print the response.
    Evaluate {
        /// A XACML 3.0 <Policy> or <PolicySet> file.
        #[arg(long)]
        policy: PathBuf,
        /// A XACML 3.0 <Request> (.xml) or JSON-profile request (.json; also detected by content).
        #[arg(long)]
        request: PathBuf,
        /// The instant for current-time/date/dateTime (xs:dateTime); defaults to the clock.
        #[arg(long)]
        now: Option<String>,
    },
}

pub fn run(args: XacmlArgs) -> Result<(), String> {
    match args.command {
        XacmlCommand::Evaluate {
            policy,
            request,
            now,
        } => {
            let policy_text = std::fs::read_to_string(&policy)
                .map_err(|e| format!("cannot read {}: {e}", policy.display()))?;
            let request_text = std::fs::read_to_string(&request)
                .map_err(|e| format!("cannot read {}: {e}", request.display()))?;
            let now = match now {
                Some(text) => DateTime::parse(&text).map_err(|e| format!("--now: {}", e.0))?,
                None => clock_now(),
            };
            let is_json = request
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("json"))
                || request_text.trim_start().starts_with('{');
            println!("{}", evaluate(&policy_text, &request_text, is_json, now));
            Ok(())
        }
    }
}

fn clock_now() -> DateTime {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    DateTime::from_unix(
        i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
        since.subsec_nanos(),
    )
}

/// The response text for a policy and a request, as the decision API would write it.
pub fn evaluate(policy_text: &str, request_text: &str, is_json: bool, now: DateTime) -> String {
    let format = if is_json {
        RequestFormat::Json
    } else {
        RequestFormat::Xml
    };
    let refused = |message: String| {
        write(
            format,
            &Response {
                results: vec![DecisionResult::indeterminate(
                    StatusCode::SyntaxError,
                    message,
                )],
            },
            &[],
        )
    };
    let request = match if is_json {
        parse_request_json(request_text)
    } else {
        parse_request_xml(request_text)
    } {
        Ok(r) => r,
        Err(e) => return refused(format!("request: {e}")),
    };
    let policy = match parse_policy(policy_text) {
        Ok(p) => p,
        Err(e) => return refused(format!("policy: {e}")),
    };
    let individual = match request.individual_requests() {
        Ok(list) => list,
        Err(e) => return refused(e.0),
    };
    let pdp = Pdp::new(&policy);
    let results: Vec<DecisionResult> = if request.combined_decision {
        pdp.decide(&request, now).results
    } else {
        individual
            .iter()
            .map(|r| pdp.decide_individual(r, now))
            .collect()
    };
    let echo: Vec<bool> = individual
        .iter()
        .zip(&results)
        .map(|(r, result)| echo(&policy, r, result))
        .collect();
    write(format, &Response { results }, &echo)
}

fn echo(policy: &PolicyDocument, request: &Request, result: &DecisionResult) -> bool {
    match policy {
        PolicyDocument::Policy(p) => echoes_attributes(p, request, result.decision),
        PolicyDocument::PolicySet(_) => result.decision != fullmakt_xacml::Decision::Indeterminate,
    }
}

fn write(format: RequestFormat, response: &Response, echo: &[bool]) -> String {
    match format {
        RequestFormat::Xml => response_to_xml(response),
        RequestFormat::Json => response_to_altinn_json(response, echo),
    }
}
