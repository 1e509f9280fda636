//! The register use cases: adding organisations, persons and ER roles, and removing ER roles,
//! with every rule checked before anything is written, looking parties and roles up, and bulk
//! import from JSON lines ([`import`]).
//!
//! Rules (DESIGN.md §5 and issue 3): organisation numbers pass MOD11; person numbers pass both
//! check digits and the date, and synthetic test numbers only where the caller passes
//! [`SyntheticNumbers::Accept`] (the instance's test-data mode); a role is an ER role of the
//! catalogue; a main unit exists, is an organisation and is not itself a sub-unit; organisation
//! numbers, person numbers, party ids and party uuids are each unique, and each clash has its
//! own error. Party ids are assigned from [`FIRST_ASSIGNED_PARTY_ID`] up when not given; party
//! uuids are random (v4) when not given.

pub mod import;

use fullmakt_domain::catalogue::{Role, RoleLookupError};
use fullmakt_domain::party::{validate_party_id, validate_party_name, FIRST_ASSIGNED_PARTY_ID};
use fullmakt_domain::{Catalogue, OrganisationNumber, PartyType, PersonIdentifier, SyntheticNumbers, UnitType};
use fullmakt_store::{ErRoleRecord, ErRoleRow, PartyKey, PartyRow, Store, StoreError, WriteTx};
use serde::Serialize;

use crate::clock;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegisterError {
    /// A field is malformed: the field's name and the rule it broke.
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: String },
    #[error("organisation {0} is already in the register")]
    OrganisationExists(String),
    #[error("person {0} is already in the register")]
    PersonExists(String),
    #[error("party id {0} is already used by another party")]
    PartyIdTaken(i64),
    #[error("party uuid {0} is already used by another party")]
    PartyUuidTaken(String),
    #[error("no organisation {0} in the register")]
    UnknownOrganisation(String),
    #[error("no person {0} in the register")]
    UnknownPerson(String),
    #[error("the main unit {main_unit} is itself a sub-unit (of {its_main_unit}); a sub-unit's main unit must be a main unit")]
    MainUnitIsSubUnit { main_unit: String, its_main_unit: String },
    #[error("an organisation cannot be its own main unit")]
    OwnMainUnit,
    #[error("role: {0}")]
    Role(#[from] RoleLookupError),
    #[error("{holder} already holds the role {role} in {unit}")]
    RoleExists { unit: String, role: String, holder: String },
    /// Removing a role nobody holds in that form.
    #[error("{holder} does not hold the role {role} in {unit}")]
    RoleNotFound { unit: String, role: String, holder: String },
    /// A lookup found nothing.
    #[error("{0}")]
    PartyNotFound(String),
    #[error("no party id is left below 2147483647")]
    NoPartyIdLeft,
    #[error("internal error")]
    Internal,
}

impl RegisterError {
    pub(crate) fn invalid(field: &'static str, message: impl ToString) -> Self {
        Self::Invalid { field, message: message.to_string() }
    }

    fn internal<E: std::fmt::Display>(e: E) -> Self {
        tracing::error!(error = %e, "register operation failed inside the server");
        Self::Internal
    }
}

impl From<StoreError> for RegisterError {
    fn from(e: StoreError) -> Self {
        Self::internal(e)
    }
}

/// A party as the register use cases return it (and the CLI prints it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PartyView {
    pub party_id: i64,
    pub party_uuid: String,
    /// `organization` or `person`.
    pub party_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub person_identifier: Option<String>,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub main_unit_party_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub main_unit_org_number: Option<String>,
    pub is_deleted: bool,
}

impl From<PartyRow> for PartyView {
    fn from(row: PartyRow) -> Self {
        Self {
            party_id: row.party_id,
            party_uuid: row.party_uuid,
            party_type: row.party_type,
            org_number: row.org_number,
            person_identifier: row.person_identifier,
            name: row.name,
            unit_type: row.unit_type,
            main_unit_party_id: row.main_unit_party_id,
            main_unit_org_number: row.main_unit_org_number,
            is_deleted: row.is_deleted != 0,
        }
    }
}

impl PartyView {
    pub fn party_type(&self) -> PartyType {
        PartyType::parse(&self.party_type).unwrap_or(PartyType::Organisation)
    }
}

/// One side of an ER role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PartyRef {
    pub party_id: i64,
    pub party_uuid: String,
    pub party_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub person_identifier: Option<String>,
    pub name: String,
}

/// "`to` holds `role` in the unit `from`".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErRoleView {
    pub from: PartyRef,
    /// The catalogue's role code, e.g. `daglig-leder`.
    pub role_code: String,
    /// e.g. `urn:altinn:external-role:ccr:daglig-leder`.
    pub role_urn: String,
    /// ER's own code, e.g. `DAGL`.
    pub er_code: String,
    pub to: PartyRef,
}

fn role_view(record: ErRoleRecord) -> ErRoleView {
    let role = Catalogue::embedded().role(&record.role_code);
    ErRoleView {
        from: PartyRef {
            party_id: record.from_party_id,
            party_uuid: record.from_party_uuid,
            party_type: PartyType::Organisation.as_str().to_owned(),
            org_number: record.from_org_number,
            person_identifier: None,
            name: record.from_name,
        },
        role_urn: role.map(|r| r.urn.clone()).unwrap_or_default(),
        er_code: role.and_then(Role::er_code).unwrap_or_default(),
        role_code: record.role_code,
        to: PartyRef {
            party_id: record.to_party_id,
            party_uuid: record.to_party_uuid,
            party_type: record.to_party_type,
            org_number: record.to_org_number,
            person_identifier: record.to_person_identifier,
            name: record.to_name,
        },
    }
}

/// An organisation to add. Identifiers are given as text so each gets its own error.
#[derive(Debug, Clone, Default)]
pub struct NewOrganisation {
    pub org_number: String,
    pub name: String,
    pub unit_type: Option<String>,
    /// The main unit's organisation number, for a sub-unit.
    pub main_unit: Option<String>,
    pub party_id: Option<i64>,
    pub party_uuid: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct NewPerson {
    pub person_identifier: String,
    pub name: String,
    pub party_id: Option<i64>,
    pub party_uuid: Option<String>,
}

/// Who holds a role: a person (by person number) or a unit (by organisation number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleHolder {
    Person(String),
    Organisation(String),
}

#[derive(Debug, Clone)]
pub struct NewRole {
    /// The unit the role is in (organisation number).
    pub unit: String,
    /// Any name of an ER role: `DAGL`, `dagl`, `daglig-leder`, its URN.
    pub role: String,
    pub holder: RoleHolder,
}

pub(crate) fn parse_org_number(field: &'static str, s: &str) -> Result<OrganisationNumber, RegisterError> {
    OrganisationNumber::parse(s.trim()).map_err(|e| RegisterError::invalid(field, format!("`{s}`: {e}")))
}

pub(crate) fn parse_person_identifier(field: &'static str, s: &str, synthetic: SyntheticNumbers) -> Result<PersonIdentifier, RegisterError> {
    // The value is personal data: the message names the rule, not the number.
    PersonIdentifier::parse(s.trim(), synthetic).map_err(|e| RegisterError::invalid(field, e))
}

/// A party uuid given by a caller: any UUID but the nil one, stored lower-case and hyphenated.
pub(crate) fn parse_party_uuid(field: &'static str, s: &str) -> Result<uuid::Uuid, RegisterError> {
    let parsed = uuid::Uuid::parse_str(s.trim()).map_err(|_| RegisterError::invalid(field, format!("`{s}` is not a UUID")))?;
    if parsed.is_nil() {
        return Err(RegisterError::invalid(field, "the nil UUID is not a party uuid"));
    }
    Ok(parsed)
}

pub(crate) fn parse_name(s: &str) -> Result<String, RegisterError> {
    validate_party_name(s).map(str::to_owned).map_err(|e| RegisterError::invalid("name", e))
}

pub(crate) fn parse_unit_type(s: &str) -> Result<UnitType, RegisterError> {
    UnitType::parse(s.trim()).map_err(|e| RegisterError::invalid("unitType", format!("`{s}`: {e}")))
}

pub(crate) fn parse_party_id(id: i64) -> Result<i64, RegisterError> {
    validate_party_id(id).map_err(|e| RegisterError::invalid("partyId", e))
}

/// The next free party id: one above the highest in use, and never below Altinn's range.
async fn next_party_id(tx: &mut WriteTx) -> Result<i64, RegisterError> {
    let next = tx.max_party_id().await?.map_or(FIRST_ASSIGNED_PARTY_ID, |max| (max + 1).max(FIRST_ASSIGNED_PARTY_ID));
    validate_party_id(next).map_err(|_| RegisterError::NoPartyIdLeft)
}

/// Checks a given party id and uuid are free, inside the write transaction.
async fn claim_identifiers(tx: &mut WriteTx, party_id: Option<i64>, party_uuid: Option<&uuid::Uuid>) -> Result<(i64, String), RegisterError> {
    let party_id = match party_id {
        Some(id) => {
            if tx.find_party(PartyKey::Id(id)).await?.is_some() {
                return Err(RegisterError::PartyIdTaken(id));
            }
            id
        }
        None => next_party_id(tx).await?,
    };
    let party_uuid = match party_uuid {
        Some(u) => {
            let text = u.hyphenated().to_string();
            if tx.find_party(PartyKey::Uuid(&text)).await?.is_some() {
                return Err(RegisterError::PartyUuidTaken(text));
            }
            text
        }
        None => uuid::Uuid::new_v4().hyphenated().to_string(),
    };
    Ok((party_id, party_uuid))
}

fn insert_conflict(e: StoreError) -> RegisterError {
    match e {
        // Every key was checked under the write lock just before; only a schema-level clash
        // the checks do not know about can land here.
        StoreError::Conflict => RegisterError::invalid("party", "a party with one of these identifiers exists already"),
        other => other.into(),
    }
}

/// Adds an organisation (a unit of Enhetsregisteret), optionally as a sub-unit of `main_unit`.
pub async fn add_organisation(store: &Store, input: &NewOrganisation) -> Result<PartyView, RegisterError> {
    let org_number = parse_org_number("orgNumber", &input.org_number)?;
    let name = parse_name(&input.name)?;
    let unit_type = input.unit_type.as_deref().map(parse_unit_type).transpose()?;
    let main_unit = input.main_unit.as_deref().map(|m| parse_org_number("mainUnit", m)).transpose()?;
    if main_unit == Some(org_number) {
        return Err(RegisterError::OwnMainUnit);
    }
    let party_id = input.party_id.map(parse_party_id).transpose()?;
    let party_uuid = input.party_uuid.as_deref().map(|u| parse_party_uuid("partyUuid", u)).transpose()?;

    let org_text = org_number.to_string();
    let mut tx = store.begin_write().await?;
    if tx.find_party(PartyKey::OrgNumber(&org_text)).await?.is_some() {
        return Err(RegisterError::OrganisationExists(org_text));
    }
    let main_unit_party_id = match main_unit {
        None => None,
        Some(m) => {
            let m = m.to_string();
            let parent = tx.find_party(PartyKey::OrgNumber(&m)).await?.ok_or_else(|| RegisterError::UnknownOrganisation(m.clone()))?;
            if let Some(its_main_unit) = parent.main_unit_org_number {
                return Err(RegisterError::MainUnitIsSubUnit { main_unit: m, its_main_unit });
            }
            Some(parent.party_id)
        }
    };
    let (party_id, party_uuid) = claim_identifiers(&mut tx, party_id, party_uuid.as_ref()).await?;
    let now = clock::now();
    let row = PartyRow {
        party_id,
        party_uuid,
        party_type: PartyType::Organisation.as_str().to_owned(),
        org_number: Some(org_text),
        person_identifier: None,
        name,
        unit_type: unit_type.map(|u| u.as_str().to_owned()),
        main_unit_party_id,
        is_deleted: 0,
        created: now,
        last_changed: now,
        main_unit_org_number: main_unit.map(|m| m.to_string()),
    };
    tx.insert_party(&row).await.map_err(insert_conflict)?;
    tx.commit().await?;
    Ok(row.into())
}

/// Adds a person (from the population register).
pub async fn add_person(store: &Store, input: &NewPerson, synthetic: SyntheticNumbers) -> Result<PartyView, RegisterError> {
    let pid = parse_person_identifier("personIdentifier", &input.person_identifier, synthetic)?;
    let name = parse_name(&input.name)?;
    let party_id = input.party_id.map(parse_party_id).transpose()?;
    let party_uuid = input.party_uuid.as_deref().map(|u| parse_party_uuid("partyUuid", u)).transpose()?;

    let pid_text = pid.to_string();
    let mut tx = store.begin_write().await?;
    if tx.find_party(PartyKey::PersonIdentifier(&pid_text)).await?.is_some() {
        return Err(RegisterError::PersonExists(pid_text));
    }
    let (party_id, party_uuid) = claim_identifiers(&mut tx, party_id, party_uuid.as_ref()).await?;
    let now = clock::now();
    let row = PartyRow {
        party_id,
        party_uuid,
        party_type: PartyType::Person.as_str().to_owned(),
        org_number: None,
        person_identifier: Some(pid_text),
        name,
        unit_type: None,
        main_unit_party_id: None,
        is_deleted: 0,
        created: now,
        last_changed: now,
        main_unit_org_number: None,
    };
    tx.insert_party(&row).await.map_err(insert_conflict)?;
    tx.commit().await?;
    Ok(row.into())
}

/// An ER role's input after validation: the unit, the catalogue's role and the holder's key.
struct RoleKey {
    unit: String,
    role: &'static Role,
    holder: RoleHolder,
}

impl RoleKey {
    fn parse(input: &NewRole, synthetic: SyntheticNumbers) -> Result<Self, RegisterError> {
        let unit = parse_org_number("from", &input.unit)?.to_string();
        let role = Catalogue::embedded().er_role(input.role.trim())?;
        let holder = match &input.holder {
            RoleHolder::Person(pid) => RoleHolder::Person(parse_person_identifier("toPerson", pid, synthetic)?.to_string()),
            RoleHolder::Organisation(org) => RoleHolder::Organisation(parse_org_number("toOrganization", org)?.to_string()),
        };
        Ok(Self { unit, role, holder })
    }

    /// The unit and the holder, read inside the write so they cannot change before it commits.
    async fn parties(&self, tx: &mut WriteTx) -> Result<(PartyRow, PartyRow), RegisterError> {
        let from = tx.find_party(PartyKey::OrgNumber(&self.unit)).await?.ok_or_else(|| RegisterError::UnknownOrganisation(self.unit.clone()))?;
        let to = match &self.holder {
            RoleHolder::Person(pid) => {
                tx.find_party(PartyKey::PersonIdentifier(pid)).await?.ok_or_else(|| RegisterError::UnknownPerson(pid.clone()))?
            }
            RoleHolder::Organisation(org) => {
                tx.find_party(PartyKey::OrgNumber(org)).await?.ok_or_else(|| RegisterError::UnknownOrganisation(org.clone()))?
            }
        };
        Ok((from, to))
    }

    /// The names an error gives: the unit, ER's code for the role, and "person …"/"organisation …".
    fn described(self) -> (String, String, String) {
        let holder = match self.holder {
            RoleHolder::Person(p) => format!("person {p}"),
            RoleHolder::Organisation(o) => format!("organisation {o}"),
        };
        (self.unit, self.role.er_code().unwrap_or_else(|| self.role.code.clone()), holder)
    }

    fn view(&self, from: PartyRow, to: PartyRow) -> ErRoleView {
        ErRoleView {
            from: party_ref(from),
            role_code: self.role.code.clone(),
            role_urn: self.role.urn.clone(),
            er_code: self.role.er_code().unwrap_or_default(),
            to: party_ref(to),
        }
    }
}

/// Records that `holder` holds the ER role `role` in the unit `unit`.
pub async fn add_role(store: &Store, input: &NewRole, synthetic: SyntheticNumbers) -> Result<ErRoleView, RegisterError> {
    let key = RoleKey::parse(input, synthetic)?;
    let mut tx = store.begin_write().await?;
    let (from, to) = key.parties(&mut tx).await?;
    let row = ErRoleRow { from_party_id: from.party_id, role_code: key.role.code.clone(), to_party_id: to.party_id };
    if tx.has_er_role(&row).await? {
        let (unit, role, holder) = key.described();
        return Err(RegisterError::RoleExists { unit, role, holder });
    }
    tx.insert_er_role(&row, clock::now()).await.map_err(insert_conflict)?;
    tx.commit().await?;
    Ok(key.view(from, to))
}

/// Ends `holder`'s ER role `role` in the unit `unit` (the same input, in the same forms, as
/// [`add_role`]); returns the role that was removed. The write records an index change for the
/// unit, so what the role gave its holder is gone from the very next decision on every node.
pub async fn remove_role(store: &Store, input: &NewRole, synthetic: SyntheticNumbers) -> Result<ErRoleView, RegisterError> {
    let key = RoleKey::parse(input, synthetic)?;
    let mut tx = store.begin_write().await?;
    let (from, to) = key.parties(&mut tx).await?;
    let row = ErRoleRow { from_party_id: from.party_id, role_code: key.role.code.clone(), to_party_id: to.party_id };
    if !tx.delete_er_role(&row).await? {
        // Dropping the transaction rolls the index change back with the (empty) delete.
        let (unit, role, holder) = key.described();
        return Err(RegisterError::RoleNotFound { unit, role, holder });
    }
    tx.commit().await?;
    Ok(key.view(from, to))
}

fn party_ref(row: PartyRow) -> PartyRef {
    PartyRef {
        party_id: row.party_id,
        party_uuid: row.party_uuid,
        party_type: row.party_type,
        org_number: row.org_number,
        person_identifier: row.person_identifier,
        name: row.name,
    }
}

/// How to look a party up; every form is validated before the store is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartyLookup {
    PartyId(i64),
    PartyUuid(String),
    OrgNumber(String),
    /// Lookups accept synthetic numbers whatever the instance's mode: a lookup never stores
    /// anything, and a synthetic number can only be found where test data was admitted.
    PersonIdentifier(String),
}

/// Finds one party, or [`RegisterError::PartyNotFound`].
pub async fn find_party(store: &Store, lookup: &PartyLookup) -> Result<PartyView, RegisterError> {
    let (row, what) = match lookup {
        PartyLookup::PartyId(id) => {
            let id = parse_party_id(*id)?;
            (store.find_party(PartyKey::Id(id)).await?, format!("no party with party id {id}"))
        }
        PartyLookup::PartyUuid(u) => {
            let u = parse_party_uuid("partyUuid", u)?.hyphenated().to_string();
            (store.find_party(PartyKey::Uuid(&u)).await?, format!("no party with party uuid {u}"))
        }
        PartyLookup::OrgNumber(n) => {
            let n = parse_org_number("orgNo", n)?.to_string();
            (store.find_party(PartyKey::OrgNumber(&n)).await?, format!("no organisation {n}"))
        }
        PartyLookup::PersonIdentifier(p) => {
            let p = parse_person_identifier("ssn", p, SyntheticNumbers::Accept)?.to_string();
            (store.find_party(PartyKey::PersonIdentifier(&p)).await?, "no person with this person number".to_owned())
        }
    };
    row.map(PartyView::from).ok_or(RegisterError::PartyNotFound(what))
}

/// The ER roles `subject` holds in the unit `party` (party ids), with the catalogue's role for each.
pub async fn roles_of_subject_for_party(store: &Store, subject_party_id: i64, party_id: i64) -> Result<Vec<&'static Role>, RegisterError> {
    let catalogue = Catalogue::embedded();
    Ok(store.er_role_codes(party_id, subject_party_id).await?.iter().filter_map(|code| catalogue.role(code)).collect())
}

/// Everyone holding an ER role in the unit `party_id`.
pub async fn roles_in_unit(store: &Store, party_id: i64) -> Result<Vec<ErRoleView>, RegisterError> {
    Ok(store.er_roles_in(party_id).await?.into_iter().map(role_view).collect())
}

/// Every ER role `party_id` holds, in any unit: the reverse lookup ("where is this person DAGL?").
pub async fn roles_held_by(store: &Store, party_id: i64) -> Result<Vec<ErRoleView>, RegisterError> {
    Ok(store.er_roles_held_by(party_id).await?.into_iter().map(role_view).collect())
}

/// A party with its sub-units and the ER roles in and held by it, for the operator's `show`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PartyDetails {
    #[serde(flatten)]
    pub party: PartyView,
    pub sub_units: Vec<PartyView>,
    /// Roles others hold in this unit.
    pub roles_in_unit: Vec<ErRoleView>,
    /// Roles this party holds in units.
    pub roles_held: Vec<ErRoleView>,
}

pub async fn party_details(store: &Store, lookup: &PartyLookup) -> Result<PartyDetails, RegisterError> {
    let party = find_party(store, lookup).await?;
    let sub_units = store.sub_units(party.party_id).await?.into_iter().map(PartyView::from).collect();
    let roles_in_unit = roles_in_unit(store, party.party_id).await?;
    let roles_held = roles_held_by(store, party.party_id).await?;
    Ok(PartyDetails { party, sub_units, roles_in_unit, roles_held })
}
