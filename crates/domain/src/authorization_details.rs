//! The `authorization_details` claim of a token grant (RFC 9396) with the Altinn system-user
//! type, maskinporten.md §2.1: exactly one entry, only the fields `type`, `systemuser_org`
//! and `externalRef`, the ISO 6523 authority and a valid organisation number.

use serde_json::Value;

use crate::token_error::TokenFailure;
use crate::OrganisationNumber;

pub const SYSTEMUSER_TYPE: &str = "urn:altinn:systemuser";
pub const CONSENT_TYPE: &str = "urn:altinn:consent";
pub const ISO6523_AUTHORITY: &str = "iso6523-actorid-upis";
const MAX_EXTERNAL_REF_LEN: usize = 255;

/// What a vendor asks for: the system user owned by `owner` (the customer, or the
/// facilitator for agent system users), optionally told apart by `external_ref`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemUserAuthorizationRequest {
    pub owner: OrganisationNumber,
    pub external_ref: Option<String>,
}

impl SystemUserAuthorizationRequest {
    /// The externalRef the lookup uses: Altinn defaults it to the owner's organisation number.
    pub fn effective_external_ref(&self) -> String {
        self.external_ref.clone().unwrap_or_else(|| self.owner.to_string())
    }

    pub fn parse(claim: &Value) -> Result<Self, TokenFailure> {
        let entries = claim
            .as_array()
            .ok_or(TokenFailure::AuthorizationDetailsShape("authorization_details must be a JSON array"))?;
        let [entry] = entries.as_slice() else {
            return Err(TokenFailure::AuthorizationDetailsShape(
                "authorization_details must hold exactly one entry",
            ));
        };
        let entry = entry
            .as_object()
            .ok_or(TokenFailure::AuthorizationDetailsShape("each authorization_details entry must be a JSON object"))?;
        match entry.get("type").and_then(Value::as_str) {
            Some(SYSTEMUSER_TYPE) => {}
            Some(other) => return Err(TokenFailure::AuthorizationDetailsType(other.to_owned())),
            None => return Err(TokenFailure::AuthorizationDetailsShape("authorization_details entry has no string 'type'")),
        }
        if let Some(unknown) = entry.keys().find(|k| !matches!(k.as_str(), "type" | "systemuser_org" | "externalRef")) {
            return Err(TokenFailure::AuthorizationDetailsFields(unknown.clone()));
        }
        let org = entry
            .get("systemuser_org")
            .and_then(Value::as_object)
            .ok_or(TokenFailure::AuthorizationDetailsValue("systemuser_org must be an object"))?;
        if let Some(unknown) = org.keys().find(|k| !matches!(k.as_str(), "authority" | "ID")) {
            return Err(TokenFailure::AuthorizationDetailsFields(format!("systemuser_org.{unknown}")));
        }
        if org.get("authority").and_then(Value::as_str) != Some(ISO6523_AUTHORITY) {
            return Err(TokenFailure::AuthorizationDetailsValue(
                "systemuser_org.authority must be iso6523-actorid-upis",
            ));
        }
        let owner = org
            .get("ID")
            .and_then(Value::as_str)
            .and_then(OrganisationNumber::parse_iso6523)
            .ok_or(TokenFailure::AuthorizationDetailsValue(
                "systemuser_org.ID must be 0192: followed by a valid organisation number",
            ))?;
        let external_ref = match entry.get("externalRef") {
            None => None,
            Some(Value::String(s)) if !s.is_empty() && s.len() <= MAX_EXTERNAL_REF_LEN => Some(s.clone()),
            Some(_) => {
                return Err(TokenFailure::AuthorizationDetailsValue(
                    "externalRef must be a non-empty string of at most 255 characters",
                ))
            }
        };
        Ok(Self { owner, external_ref })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<SystemUserAuthorizationRequest, TokenFailure> {
        SystemUserAuthorizationRequest::parse(&v)
    }

    #[test]
    fn accepts_the_documented_shape_with_and_without_external_ref() {
        let r = parse(json!([{"type": SYSTEMUSER_TYPE,
            "systemuser_org": {"authority": ISO6523_AUTHORITY, "ID": "0192:310702641"}}]))
        .unwrap();
        assert_eq!(r.owner.to_string(), "310702641");
        assert_eq!(r.external_ref, None);
        assert_eq!(r.effective_external_ref(), "310702641");
        let r = parse(json!([{"type": SYSTEMUSER_TYPE, "externalRef": "abc",
            "systemuser_org": {"authority": ISO6523_AUTHORITY, "ID": "0192:310702641"}}]))
        .unwrap();
        assert_eq!(r.effective_external_ref(), "abc");
    }

    #[test]
    fn rejects_shapes_types_fields_and_values_with_their_codes() {
        let org = json!({"authority": ISO6523_AUTHORITY, "ID": "0192:310702641"});
        let cases = [
            (json!({"type": SYSTEMUSER_TYPE, "systemuser_org": org}), "MP-301"),
            (json!([]), "MP-301"),
            (json!([{"type": SYSTEMUSER_TYPE, "systemuser_org": org}, {"type": SYSTEMUSER_TYPE, "systemuser_org": org}]), "MP-301"),
            (json!(["x"]), "MP-301"),
            (json!([{"type": CONSENT_TYPE}]), "MP-301"),
            (json!([{"type": "urn:other"}]), "MP-301"),
            (json!([{"type": SYSTEMUSER_TYPE, "systemuser_org": org, "systemuser_id": ["x"]}]), "MP-302"),
            (json!([{"type": SYSTEMUSER_TYPE, "systemuser_org": {"authority": ISO6523_AUTHORITY, "ID": "0192:310702641", "id": "x"}}]), "MP-302"),
            (json!([{"type": SYSTEMUSER_TYPE}]), "MP-303"),
            (json!([{"type": SYSTEMUSER_TYPE, "systemuser_org": {"authority": "other", "ID": "0192:310702641"}}]), "MP-303"),
            (json!([{"type": SYSTEMUSER_TYPE, "systemuser_org": {"authority": ISO6523_AUTHORITY, "ID": "0192:310702642"}}]), "MP-303"),
            (json!([{"type": SYSTEMUSER_TYPE, "systemuser_org": {"authority": ISO6523_AUTHORITY, "ID": "310702641"}}]), "MP-303"),
            (json!([{"type": SYSTEMUSER_TYPE, "systemuser_org": org, "externalRef": 5}]), "MP-303"),
            (json!([{"type": SYSTEMUSER_TYPE, "systemuser_org": org, "externalRef": ""}]), "MP-303"),
        ];
        for (claim, code) in cases {
            let err = parse(claim.clone()).unwrap_err();
            assert_eq!(err.code().as_str(), code, "{claim}");
        }
    }
}
