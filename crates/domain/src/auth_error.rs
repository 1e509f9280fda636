//! Altinn Authentication's error catalogue (authentication-api.md §4): the `AUTH-nnnnn` problem
//! descriptors, each with its HTTP status, and the `AUTH.VLD-nnnnn` validation descriptors,
//! plus the instances the services return ([`AuthProblem`], [`ValidationError`]).
//!
//! Codes, statuses and titles are wire data: vendors and the portal switch on the code and show
//! the title, so they follow the reference. Where the reference's title text is not known to us
//! (66–71, 80) fullmakt writes its own in the same style. 72–78 belong to self-identified-user
//! links, which fullmakt does not implement, and are left out; 29 does not exist.
//!
//! The wire rendering (`urn:altinn:error:…`, `traceId`, `statusDescription`, flattened
//! extensions) lives in the HTTP crate; this module is pure data.

use std::fmt;

/// Declares [`AuthCode`]: variant, number, HTTP status, the reference's descriptor name, title.
macro_rules! auth_codes {
    ($($variant:ident = $number:literal, $status:literal, $name:literal, $title:literal;)+) => {
        /// One `AUTH-nnnnn` problem descriptor.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum AuthCode {
            $($variant),+
        }

        impl AuthCode {
            pub const ALL: &'static [AuthCode] = &[$(AuthCode::$variant),+];

            /// The number after `AUTH-`.
            pub fn number(self) -> u16 {
                match self { $(AuthCode::$variant => $number),+ }
            }

            /// The HTTP status the problem is answered with.
            pub fn status(self) -> u16 {
                match self { $(AuthCode::$variant => $status),+ }
            }

            /// The reference's descriptor name, e.g. `Rights_FailedToDelegate`.
            pub fn name(self) -> &'static str {
                match self { $(AuthCode::$variant => $name),+ }
            }

            /// The problem's `title`.
            pub fn title(self) -> &'static str {
                match self { $(AuthCode::$variant => $title),+ }
            }
        }
    };
}

auth_codes! {
    ReporteeOrgnoNotFound = 0, 400, "Reportee_Orgno_NotFound", "Can't resolve the Organisation Number from the logged in Reportee PartyId.";
    RightsNotFoundOrNotDelegable = 1, 400, "Rights_NotFound_Or_NotDelegable", "One or more Right not found or not delegable.";
    RightsFailedToDelegate = 2, 400, "Rights_FailedToDelegate", "The Delegation failed.";
    SystemUserFailedToCreate = 3, 400, "SystemUser_FailedToCreate", "Failed to create the SystemUser.";
    SystemUserAlreadyExists = 4, 400, "SystemUser_AlreadyExists", "Failed to create new SystemUser, existing SystemUser tied to the given System-Id.";
    GenericEndOfMethod = 5, 400, "Generic_EndOfMethod", "Default error at the end of logic chain. Not supposed to appear.";
    ExternalRequestIdAlreadyAccepted = 6, 400, "ExternalRequestIdAlreadyAccepted", "The combination of External Ids refer to an already Accepted SystemUser.";
    ExternalRequestIdPending = 7, 400, "ExternalRequestIdPending", "The combination of External Ids refer to a Pending Request, please reuse or delete.";
    ExternalRequestIdDenied = 8, 400, "ExternalRequestIdDenied", "The combination of External Ids refer to a Denied Request, please delete and renew the Request.";
    ExternalRequestIdRejected = 9, 400, "ExternalRequestIdRejected", "The combination of External Ids refer to a Rejected Request, please delete and renew the Request.";
    RequestNotFound = 10, 404, "RequestNotFound", "The Id does not refer to a Request in our system.";
    SystemIdNotFound = 11, 404, "SystemIdNotFound", "The Id does not refer to a Registered System.";
    RequestCouldNotBeStored = 12, 404, "RequestCouldNotBeStored", "An error occured when storing the Request.";
    RequestStatusNotNew = 13, 409, "RequestStatusNotNew", "The Status of the Request is not New.";
    UnableToDoDelegationCheck = 14, 403, "UnableToDoDelegationCheck", "DelegationCheck failed with unknown error.";
    SystemUserNotFound = 15, 404, "SystemUserNotFound", "The SystemUser was not found.";
    DelegationRightMissingRoleAccess = 16, 403, "DelegationRightMissingRoleAccess", "DelegationCheck failed with error: Has not access by a delegation of role in ER or Altinn.";
    SystemNameNotFound = 17, 404, "SystemNameNotFound", "The SystemName was not found.";
    DelegationRightMissingDelegationAccess = 18, 403, "DelegationRightMissingDelegationAccess", "DelegationCheck failed with error: Has not access by direct delegation.";
    DelegationRightMissingSrrRightAccess = 19, 403, "DelegationRightMissingSrrRightAccess", "DelegationCheck failed with error: The service requires explicit access in SRR and the reportee is missing this.";
    DelegationRightInsufficientAuthenticationLevel = 20, 403, "DelegationRightInsufficientAuthenticationLevel", "DelegationCheck failed with error: The service requires explicit authentication level and the reportee is missing this.";
    RedirectUriNotFound = 21, 400, "RedirectUriNotFound", "The RedirectUri was not found or not valid.";
    RightsFailedToRevoke = 22, 400, "Rights_FailedToRevoke", "The operation to revoke rights failed.";
    VendorOrgnoNotFound = 23, 401, "Vendor_Orgno_NotFound", "Can't resolve the Organisation Number for the Vendor from the Token.";
    DeleteSystemUserNotOwned = 24, 403, "Delete_SystemUser_NotOwned", "you don't have rights to delete this systemuser";
    NotAnAgentRequest = 25, 400, "NotAnAgentRequest", "The request id is valid but its not a valid request for creating an agent system user";
    NoRedirectUrisFoundOnSystem = 26, 400, "NoRedirectUrisFoundOnSystem", "No redirect uris are set for the system";
    RoleNotFoundForPackage = 27, 400, "RoleNotFoundForPackage", "The accesspackage provided in the request can't be mapped to a valid role.";
    CustomerIdNotFound = 28, 400, "CustomerIdNotFound", "The customer id was not provided or did not validate.";
    AgentRequestNotFound = 30, 404, "AgentRequestNotFound", "The Id does not refer to an AgentRequest in our system.";
    CustomerDelegationFailedToRevoke = 31, 400, "CustomerDelegation_FailedToRevoke", "Party does not match delegation facilitator.";
    AgentSystemUserAssignmentNotFound = 32, 400, "AgentSystemUser_AssignmentNotFound", "Assignment not found.";
    AgentSystemUserFailedToDeleteAgent = 33, 400, "AgentSystemUser_FailedToDeleteAgent", "Failed to delete the agent system user";
    AgentSystemUserExpectedAgentUserType = 34, 400, "AgentSystemUser_ExpectedAgentUserType", "The system user type of the provided system user GUID is not an agent.";
    AgentSystemUserHasDelegations = 35, 400, "AgentSystemUser_HasDelegations", "The system user has delegations from customer. Remove the delegations before deleting the system user";
    AgentSystemUserExpectedStandardUserType = 36, 400, "AgentSystemUser_ExpectedStandardUserType", "The system user type of the provided system user GUID is not standard.";
    AgentSystemUserTooManyAssignments = 37, 400, "AgentSystemUser_TooManyAssignments", "To many assignment found";
    AgentSystemUserDelegationNotFound = 38, 400, "AgentSystemUser_DelegationNotFound", "Delegation not found";
    AgentSystemUserInvalidDelegationFacilitator = 39, 400, "AgentSystemUser_InvalidDelegationFacilitator", "Party does not match delegation facilitator";
    AgentSystemUserDeleteDelegationPartyMismatch = 40, 400, "AgentSystemUser_DeleteDelegation_PartyMismatch", "Party does not match delegation assignments";
    PartyIdRequestMismatch = 41, 403, "PartyId_Request_Mismatch", "Party does not match request's orgno";
    PartyIdAgentRequestMismatch = 42, 403, "PartyId_AgentRequest_Mismatch", "Party does not match agent request's orgno";
    AgentSystemUserFailedToGetClientsUnauthorized = 43, 401, "AgentSystemUser_FailedToGetClients_Unauthorized", "Unauthorized";
    AgentSystemUserFailedToGetClientsForbidden = 44, 403, "AgentSystemUser_FailedToGetClients_Forbidden", "Forbidden";
    AgentSystemUserFailedToGetClients = 45, 400, "AgentSystemUser_FailedToGetClients", "Failed to get clients";
    SystemUserFailedToGetAccessPackages = 46, 400, "SystemUser_FailedToGetAccessPackages", "Failed to get list of accesspackages delegated";
    SystemUserFailedToAddAsRightHolder = 47, 400, "SystemUser_FailedToAddAsRightHolder", "Unable to add system user as right holder to the organisation";
    SystemUserFailedToPushSystemUser = 48, 400, "SystemUser_FailedToPushSystemUser", "Unable to push system user information to access management";
    PartyPartyUuidNotFound = 49, 400, "Party_PartyUuid_NotFound", "The party is missing its uuid.";
    AccessPackageDelegationCheckFailed = 50, 400, "AccessPackage_DelegationCheckFailed", "The delegation check failed for access packages";
    AccessPackageDelegationFailed = 51, 400, "AccessPackage_DelegationFailed", "The delegation of access package to the system user failed";
    AccessPackageValidationFailed = 52, 400, "AccessPackage_ValidationFailed", "One or more access packages are invalid";
    AccessPackageDelegationMissingRequiredAccess = 53, 400, "AccessPackage_Delegation_MissingRequiredAccess", "The user does not have enough access to delegate the requested access packages";
    SystemUserFailedToRemoveRightHolder = 54, 400, "SystemUser_FailedToRemoveRightHolder", "Unable to remove system user as right holder from the organisation";
    AccessPackageFailedToGetDelegatedPackages = 55, 500, "AccessPackage_FailedToGetDelegatedPackages", "Failed to get delegated access packages";
    SystemUserFailedToDelete = 56, 400, "SystemUser_FailedToDelete", "Failed to delete system user";
    SystemUserFailedToDeleteAccessPackage = 57, 400, "SystemUser_FailedToDeleteAccessPackage", "Failed to delete access package delegation for system user";
    SystemUserMissingAccessPackage = 58, 400, "SystemUser_MissingAccessPackage", "No AccessPackages found, an Agent SystemUser must have at least one";
    SystemUserMissingRightsOrAccessPackages = 59, 400, "SystemUser_MissingRightsOrAccessPackages", "No AccessPackages or Single Rights found, a SystemUser must have at least one";
    RequestCouldNotBeUpdated = 60, 404, "RequestCouldNotBeUpdated", "An error occured when Updating the Request.";
    ChangeRequestStatusNotNewUseCorrellationId = 61, 409, "ChangeRequestStatusNotNewUseCorrellationId", "The Status of the Request is not New. Please generate a new CorrellationId for a new Change Request";
    SystemUserFailedToGetDelegatedRights = 62, 500, "SystemUser_FailedToGetDelegatedRights", "Failed to get delegated rights";
    AccessPackageNotFound = 63, 400, "AccessPackage_NotFound", "One or more accesspackage is not found in the referenced system in the System Register.";
    AccessPackageNotDelegableStandard = 64, 400, "AccessPackage_NotDelegable_Standard", "One or more access packages cannot be delegated. Either they are intended for clients or they cannot be delegated further.";
    AccessPackageNotDelegableAgent = 65, 400, "AccessPackage_NotDelegable_Agent", "One or more access packages cannot be delegated because they are not intended for client relationships";
    RequestUserIsNotAccessManager = 66, 403, "Request_UserIsNotAccessManager", "The user is not an access manager for the organisation of the request.";
    SystemUserFailedToAddAsAgent = 67, 400, "SystemUser_FailedToAddAsAgent", "Unable to add system user as agent to the organisation";
    DelegationRightMissingPackageAccess = 68, 403, "DelegationRightMissingPackageAccess", "DelegationCheck failed with error: Has not access through an access package.";
    DelegationRightAccessListValidationFail = 69, 403, "DelegationRightAccessListValidationFail", "DelegationCheck failed with error: The party is not on an access list of the resource.";
    DelegationRightResourceNotDelegable = 70, 403, "DelegationRightResourceNotDelegable", "DelegationCheck failed with error: The resource is not delegable.";
    DelegationRightResourceIsMaskinPortenSchema = 71, 403, "DelegationRightResourceIsMaskinPortenSchema", "DelegationCheck failed with error: The resource is a Maskinporten schema, which is not delegated.";
    AgentSystemUserClientNotFound = 79, 400, "AgentSystemUser_ClientNotFound", "Client not found.";
    AgentSystemUserClientMissingAccessPackages = 80, 400, "AgentSystemUser_ClientMissingAccessPackages", "The client has not given the facilitator every access package the agent system user holds.";
}

impl AuthCode {
    /// `AUTH-00064`.
    pub fn code(self) -> String {
        format!("AUTH-{:05}", self.number())
    }

    pub fn by_number(number: u16) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.number() == number)
    }
}

impl fmt::Display for AuthCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AUTH-{:05}", self.number())
    }
}

/// Declares [`ValidationCode`]: variant, number, the reference's descriptor name, title.
macro_rules! validation_codes {
    ($($variant:ident = $number:literal, $name:literal, $title:literal;)+) => {
        /// One `AUTH.VLD-nnnnn` validation descriptor. Two descriptors share number 14, as in
        /// the reference.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ValidationCode {
            $($variant),+
        }

        impl ValidationCode {
            pub const ALL: &'static [ValidationCode] = &[$(ValidationCode::$variant),+];

            pub fn number(self) -> u16 {
                match self { $(ValidationCode::$variant => $number),+ }
            }

            pub fn name(self) -> &'static str {
                match self { $(ValidationCode::$variant => $name),+ }
            }

            /// The validation error's `title`.
            pub fn title(self) -> &'static str {
                match self { $(ValidationCode::$variant => $title),+ }
            }
        }
    };
}

validation_codes! {
    InvalidOrgIdentifier = 0, "SystemRegister_InValid_Org_Identifier", "the org number identifier is not valid ISO6523 identifier";
    InvalidSystemIdFormat = 1, "SystemRegister_Invalid_SystemId_Format", "The system id does not match the format orgnumber_xxxx...";
    SystemIdExists = 2, "SystemRegister_SystemId_Exists", "The system id already exists";
    ResourceIdDoesNotExist = 3, "SystemRegister_ResourceId_DoesNotExist", "One or more resources specified in rights were not found in Altinn's resource register.";
    ClientIdExists = 4, "SystemRegister_ClientID_Exists", "One of the client id is already tagged with an existing system";
    InvalidRedirectUrlFormat = 5, "SystemRegister_InValid_RedirectUrlFormat", "One or more of the redirect urls format is not valid. The valid format is https://xxx.xx";
    DuplicateRights = 6, "SystemRegister_ResourceId_Duplicates", "One or more duplicate rights found";
    DuplicateAccessPackages = 7, "SystemRegister_AccessPackage_Duplicates", "One or more duplicate access package(s) found";
    AccessPackageNotValid = 8, "SystemRegister_AccessPackage_NotValid", "One or all the accesspackage(s) is not found in altinn's access packages or is not delegable";
    ResourceIdInvalidFormat = 9, "SystemRegister_ResourceId_InvalidFormat", "One or more resource id is in wrong format. The valid format is urn:altinn:resource";
    DuplicateClientIds = 11, "SystemRegister_Duplicate_ClientIds", "Request contains duplicate client ids";
    SystemIdMismatch = 12, "SystemId_Mismatch", "The system ID in the request body does not match the system ID in the URL";
    SystemIdHasSpaces = 13, "SystemRegister_Invalid_SystemId_Spaces", "System ID cannot have spaces in id (leading, trailing or in between the id)";
    AgentParameterMissing = 14, "SystemUser_Missing_SystemUserId", "The agent query parameter is missing or invalid";
    SystemUserIdNotFound = 14, "SystemUser_SystemUserId_NotFound", "System user not found";
    NotAnAgentSystemUser = 15, "SystemUser_Invalid_SystemUserId", "SystemUser is not a valid system user of type agent";
    ClientParameterMissing = 16, "SystemUser_Missing_ClientParameter", "The client query parameter is missing or invalid";
    ResourceNotDelegable = 17, "SystemRegister_ResourceId_NotDelegable", "One or more resources specified in rights is of resource type which is not delegable.";
    VisibleWithNonAssignablePackage = 18, "SystemRegister_IsVisible_With_NonAssignable_AccessPackage", "Access packages meant for system user for client relations can't be used in combination with the flag isVisible: true";
}

impl ValidationCode {
    /// `AUTH.VLD-00002`.
    pub fn code(self) -> String {
        format!("AUTH.VLD-{:05}", self.number())
    }
}

impl fmt::Display for ValidationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AUTH.VLD-{:05}", self.number())
    }
}

/// The code and title of the problem that carries validation errors (ProblemDetails' standard
/// `STD-00000`), always answered with 400.
pub const VALIDATION_PROBLEM_CODE: &str = "STD-00000";
pub const VALIDATION_PROBLEM_TITLE: &str = "One or more validation errors occurred.";

/// The JSON-pointer-like paths validation errors name (the reference's `ErrorPathConstant`).
pub mod paths {
    pub const VENDOR_ID: &str = "/registersystemrequest/vendor/id";
    pub const SYSTEM_ID: &str = "/registersystemrequest/systemid";
    pub const ALLOWED_REDIRECT_URLS: &str = "/registersystemrequest/allowedredirecturls";
    pub const CLIENT_ID: &str = "/registersystemrequest/clientid";
    pub const ACCESS_PACKAGES: &str = "/registersystemrequest/accesspackages";
    pub const RIGHTS: &str = "/registersystemrequest/rights/resource";
    pub const AGENT_PARAMETER: &str = "?agent";
    pub const CLIENT_PARAMETER: &str = "?client";
}

/// One `AUTH-nnnnn` problem as returned: the descriptor, an optional `detail`, and extension
/// members (written at the top level of the body, e.g. `NotDelegablePackages`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthProblem {
    pub code: AuthCode,
    pub detail: Option<String>,
    pub extensions: Vec<(String, String)>,
}

impl AuthProblem {
    pub fn new(code: AuthCode) -> Self {
        Self { code, detail: None, extensions: Vec::new() }
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn with_extension(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.extensions.push((key.into(), value.into()));
        self
    }

    pub fn status(&self) -> u16 {
        self.code.status()
    }
}

impl From<AuthCode> for AuthProblem {
    fn from(code: AuthCode) -> Self {
        Self::new(code)
    }
}

impl fmt::Display for AuthProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.code.title())?;
        if let Some(d) = &self.detail {
            write!(f, " ({d})")?;
        }
        Ok(())
    }
}

/// One `AUTH.VLD-nnnnn` error inside a validation problem: the descriptor, the paths it is
/// about, and extension members written inside the error object (e.g.
/// `"Invalid Urn Details : "`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    pub code: ValidationCode,
    pub paths: Vec<String>,
    pub detail: Option<String>,
    pub extensions: Vec<(String, String)>,
}

impl ValidationError {
    pub fn new(code: ValidationCode, path: &str) -> Self {
        Self { code, paths: vec![path.to_owned()], detail: None, extensions: Vec::new() }
    }

    pub fn with_extension(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.extensions.push((key.into(), value.into()));
        self
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.code.title())
    }
}

/// The `statusDescription` ProblemDetails writes: the HTTP reason phrase.
pub fn status_description(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        410 => "Gone",
        412 => "Precondition Failed",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn the_catalogue_has_every_system_user_descriptor_once() {
        let numbers: Vec<u16> = AuthCode::ALL.iter().map(|c| c.number()).collect();
        let unique: HashSet<u16> = numbers.iter().copied().collect();
        assert_eq!(unique.len(), numbers.len(), "a number is used twice");
        // 0–80 without 29 (never defined) and 72–78 (self-identified links, another domain).
        let expected: HashSet<u16> = (0..=80).filter(|n| *n != 29 && !(72..=78).contains(n)).collect();
        assert_eq!(unique, expected);
        assert_eq!(AuthCode::ALL.len(), 73);
    }

    #[test]
    fn codes_titles_and_statuses_follow_the_reference() {
        assert_eq!(AuthCode::RightsFailedToDelegate.code(), "AUTH-00002");
        assert_eq!(AuthCode::RightsFailedToDelegate.title(), "The Delegation failed.");
        assert_eq!(AuthCode::AgentSystemUserClientNotFound.code(), "AUTH-00079");
        assert_eq!(AuthCode::AgentSystemUserClientNotFound.title(), "Client not found.");
        assert_eq!(AuthCode::VendorOrgnoNotFound.status(), 401);
        assert_eq!(AuthCode::RequestStatusNotNew.status(), 409);
        assert_eq!(AuthCode::AccessPackageFailedToGetDelegatedPackages.status(), 500);
        assert_eq!(AuthCode::by_number(64), Some(AuthCode::AccessPackageNotDelegableStandard));
        assert_eq!(AuthCode::by_number(29), None);
        for c in AuthCode::ALL {
            assert!(!c.title().is_empty() && !c.name().is_empty(), "{c}");
            assert!(matches!(c.status(), 400 | 401 | 403 | 404 | 409 | 500), "{c}");
        }
    }

    #[test]
    fn validation_codes_include_both_fourteens_and_no_ten() {
        assert_eq!(ValidationCode::ALL.len(), 19);
        let distinct: HashSet<u16> = ValidationCode::ALL.iter().map(|c| c.number()).collect();
        assert_eq!(distinct.len(), 18);
        assert!(!distinct.contains(&10));
        assert_eq!(ValidationCode::AgentParameterMissing.code(), "AUTH.VLD-00014");
        assert_eq!(ValidationCode::SystemUserIdNotFound.code(), "AUTH.VLD-00014");
        assert_ne!(ValidationCode::AgentParameterMissing.title(), ValidationCode::SystemUserIdNotFound.title());
        assert_eq!(ValidationCode::SystemIdExists.title(), "The system id already exists");
        assert_eq!(ValidationCode::VisibleWithNonAssignablePackage.code(), "AUTH.VLD-00018");
    }
}
