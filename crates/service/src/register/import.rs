//! Bulk import of the register from a JSON-lines file (format: `docs/register-import.md`),
//! fast enough for all of Norway (about 1.1 M units, 1 M persons and 3 M roles).
//!
//! Two passes over the file:
//! 1. **Validate** every line (shape, identifiers, names, role codes) and every reference (main
//!    units, role parties, given party ids and uuids) against the file and the register as it
//!    is, keeping only compact keys in memory. Any error stops the import before its first
//!    write; errors name their line.
//! 2. **Write** with multi-row upserts in transactions of `rows_per_transaction` rows: main
//!    units and persons first, then sub-units (whose main units then exist), then roles. Each
//!    transaction is one state change; one that changed nothing is rolled back, so re-importing
//!    the same file leaves the change sequence alone.
//!
//! Upsert semantics (documented for operators): a party is identified by its organisation number
//! or person number. A new one is inserted; an existing one gets the line's name, unit type and
//! main unit, keeps its party id and uuid (a line may repeat them, but not change them), and is
//! counted as updated or unchanged. Roles are added if missing; nothing is ever deleted.
//!
//! Memory: about 100 bytes per party and 24 per role line during the import, plus SQLite's
//! bulk-load page cache (`fullmakt_store::BULK_CACHE_KIB`).

use std::borrow::Cow;
use std::collections::hash_map::Entry as MapEntry;
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::time::Instant;

use fullmakt_domain::catalogue::RoleIndex;
use fullmakt_domain::party::FIRST_ASSIGNED_PARTY_ID;
use fullmakt_domain::{Catalogue, PartyType, SyntheticNumbers};
use fullmakt_store::{ErRoleRow, PartyRow, Store, WriteTx};
use serde::{Deserialize, Serialize};

use super::{parse_name, parse_org_number, parse_party_id, parse_party_uuid, parse_person_identifier, parse_unit_type, RegisterError};
use crate::clock;

/// Longest line accepted; a register line is a few hundred bytes.
pub const MAX_LINE_BYTES: usize = 64 * 1024;
/// Errors reported before the import gives up reading.
pub const MAX_REPORTED_ERRORS: usize = 25;
/// Default transaction size of the write pass.
pub const DEFAULT_ROWS_PER_TRANSACTION: usize = 100_000;

#[derive(Debug, Clone, Copy)]
pub struct ImportOptions {
    pub synthetic: SyntheticNumbers,
    pub rows_per_transaction: usize,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self { synthetic: SyntheticNumbers::Refuse, rows_per_transaction: DEFAULT_ROWS_PER_TRANSACTION }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PartyCounts {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleCounts {
    pub created: u64,
    pub unchanged: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportSummary {
    pub lines: u64,
    pub organizations: PartyCounts,
    pub persons: PartyCounts,
    pub roles: RoleCounts,
    /// Write transactions committed (ones that changed nothing are rolled back and not counted).
    pub transactions: u64,
    pub validate_seconds: f64,
    pub write_seconds: f64,
    pub seconds: f64,
    /// Rows in the file (parties and roles) per second of the whole import.
    pub rows_per_second: f64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub line: u64,
    pub message: String,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportError {
    Read { path: String, message: String },
    /// Validation failed; nothing was written.
    Invalid { errors: Vec<LineError>, truncated: bool },
    /// A database failure during the write pass: transactions committed before it stay. The
    /// import is idempotent, so running it again completes it.
    Write { committed_transactions: u64, message: String },
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Read { path, message } => write!(f, "cannot read {path}: {message}"),
            Self::Invalid { errors, truncated } => {
                writeln!(f, "the file has errors; nothing was imported")?;
                for e in errors {
                    writeln!(f, "  {e}")?;
                }
                if *truncated {
                    writeln!(f, "  … and more: reading stopped after {MAX_REPORTED_ERRORS} errors")?;
                }
                Ok(())
            }
            Self::Write { committed_transactions, message } => write!(
                f,
                "database error after {committed_transactions} committed transactions: {message}; \
                 the import is idempotent, run it again to complete it"
            ),
        }
    }
}

impl std::error::Error for ImportError {}

/// One line of the file. Unknown fields are refused so a misspelt field is not silently lost.
#[derive(Deserialize)]
#[serde(tag = "type")]
enum Line<'a> {
    #[serde(rename = "organization", borrow)]
    Organization(OrgLine<'a>),
    #[serde(rename = "person", borrow)]
    Person(PersonLine<'a>),
    #[serde(rename = "role", borrow)]
    Role(RoleLine<'a>),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct OrgLine<'a> {
    #[serde(borrow)]
    org_number: Cow<'a, str>,
    #[serde(borrow)]
    name: Cow<'a, str>,
    #[serde(default, borrow)]
    unit_type: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    main_unit: Option<Cow<'a, str>>,
    #[serde(default)]
    party_id: Option<i64>,
    #[serde(default, borrow)]
    party_uuid: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PersonLine<'a> {
    #[serde(borrow)]
    person_identifier: Cow<'a, str>,
    #[serde(borrow)]
    name: Cow<'a, str>,
    #[serde(default)]
    party_id: Option<i64>,
    #[serde(default, borrow)]
    party_uuid: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RoleLine<'a> {
    #[serde(borrow)]
    from: Cow<'a, str>,
    #[serde(borrow)]
    role: Cow<'a, str>,
    #[serde(default, borrow)]
    to_person: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    to_organization: Option<Cow<'a, str>>,
}

/// What the import knows about one party: from the register, from the file, or both.
#[derive(Debug, Clone, Copy)]
struct Known {
    /// 0 until assigned after pass 1.
    party_id: i64,
    /// The line that describes it, 0 if only the register does.
    line: u64,
    /// Its main unit's organisation number after the import, 0 for none.
    main_unit: u32,
    in_register: bool,
}

#[derive(Debug, Clone, Copy)]
enum HolderKey {
    Person(u64),
    Organisation(u32),
}

/// A role line, validated and kept compact until the write pass.
#[derive(Debug, Clone, Copy)]
struct RoleRef {
    unit: u32,
    role: RoleIndex,
    holder: HolderKey,
    line: u64,
}

fn org_key(s: &str) -> u32 {
    // INVARIANT: only called on strings OrganisationNumber accepted (nine digits).
    s.parse().unwrap_or(0)
}

fn person_key(s: &str) -> u64 {
    // INVARIANT: only called on strings PersonIdentifier accepted (eleven digits).
    s.parse().unwrap_or(0)
}

fn uuid_key(u: &uuid::Uuid) -> u128 {
    u.as_u128()
}

struct Validation {
    orgs: HashMap<u32, Known>,
    persons: HashMap<u64, Known>,
    /// Party uuid → party id, for the register's parties and uuids given in the file.
    uuids: HashMap<u128, i64>,
    used_ids: HashSet<i64>,
    /// Parties needing an id, in file order, so assigned ids follow the file.
    to_assign: Vec<HolderKey>,
    roles: Vec<RoleRef>,
    errors: Vec<LineError>,
    lines: u64,
    max_id: i64,
}

impl Validation {
    fn error(&mut self, line: u64, message: impl Into<String>) {
        self.errors.push(LineError { line, message: message.into() });
    }

    fn full(&self) -> bool {
        self.errors.len() >= MAX_REPORTED_ERRORS
    }
}

/// Reads the file line by line (1-based numbers), skipping blank lines, with a bound on the
/// length of one line. Synchronous: the import runs in the operator's CLI process.
struct LineReader {
    path: String,
    reader: BufReader<std::fs::File>,
    buf: Vec<u8>,
    number: u64,
}

/// What a line holds: text, or bytes that are not UTF-8 (reported by the caller).
enum LineText<'a> {
    Text(&'a str),
    NotUtf8,
}

impl LineReader {
    fn open(path: &Path) -> Result<Self, ImportError> {
        let file = std::fs::File::open(path)
            .map_err(|e| ImportError::Read { path: path.display().to_string(), message: e.to_string() })?;
        Ok(Self { path: path.display().to_string(), reader: BufReader::with_capacity(1 << 20, file), buf: Vec::with_capacity(1024), number: 0 })
    }

    fn next_line(&mut self) -> Result<Option<(u64, LineText<'_>)>, ImportError> {
        loop {
            self.buf.clear();
            let n = (&mut self.reader)
                .take(MAX_LINE_BYTES as u64 + 1)
                .read_until(b'\n', &mut self.buf)
                .map_err(|e| ImportError::Read { path: self.path.clone(), message: e.to_string() })?;
            if n == 0 {
                return Ok(None);
            }
            self.number += 1;
            if self.buf.len() > MAX_LINE_BYTES && self.buf.last() != Some(&b'\n') {
                return Err(ImportError::Invalid {
                    errors: vec![LineError { line: self.number, message: format!("the line is longer than {MAX_LINE_BYTES} bytes") }],
                    truncated: false,
                });
            }
            if self.buf.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            return Ok(Some((
                self.number,
                match std::str::from_utf8(&self.buf) {
                    Ok(text) => LineText::Text(text.trim()),
                    Err(_) => LineText::NotUtf8,
                },
            )));
        }
    }
}

fn parse_line<'a>(text: &LineText<'a>) -> Result<Line<'a>, String> {
    let text = match text {
        LineText::Text(t) => *t,
        LineText::NotUtf8 => return Err("the line is not UTF-8".into()),
    };
    serde_json::from_str(text).map_err(|e| {
        let e = e.to_string();
        // serde's "at line 1 column N" is noise for a one-line document; keep the column.
        match e.rsplit_once(" at line 1 ") {
            Some((message, column)) => format!("not a valid register line: {message} ({column})"),
            None => format!("not a valid register line: {e}"),
        }
    })
}

/// Imports `path` into the register. See the module documentation for the semantics.
pub async fn import_file(store: &Store, path: &Path, options: ImportOptions) -> Result<ImportSummary, ImportError> {
    let started = Instant::now();
    let mut v = load_register(store).await?;
    let catalogue = Catalogue::embedded();

    // Pass 1: validate.
    let mut reader = LineReader::open(path)?;
    while let Some((number, text)) = reader.next_line()? {
        validate_line(&mut v, catalogue, number, &text, options.synthetic);
        if v.full() {
            break;
        }
    }
    v.lines = reader.number;
    if v.errors.is_empty() {
        check_references(&mut v);
    }
    if !v.errors.is_empty() {
        let truncated = v.full();
        v.errors.truncate(MAX_REPORTED_ERRORS);
        return Err(ImportError::Invalid { errors: v.errors, truncated });
    }
    let validated = Instant::now();

    // Pass 2: write. Main units and persons as they come, sub-units after them (so their main
    // units exist whatever the order of the file), then the roles kept from pass 1.
    let mut writer = Writer::new(store, options.rows_per_transaction.max(1));
    let mut summary = ImportSummary { lines: v.lines, ..Default::default() };
    let now = clock::now();
    let mut batch: Vec<(PartyRow, bool)> = Vec::with_capacity(writer.statement_rows);
    let mut sub_units: Vec<(PartyRow, bool)> = Vec::new();
    let mut reader = LineReader::open(path)?;
    while let Some((_, text)) = reader.next_line()? {
        let Ok(line) = parse_line(&text) else { continue };
        let Some(row) = party_row(&v, &line, now) else { continue };
        if row.0.main_unit_party_id.is_some() {
            sub_units.push(row);
            continue;
        }
        batch.push(row);
        if batch.len() >= writer.statement_rows {
            writer.write_parties(&batch, &mut summary).await?;
            batch.clear();
        }
    }
    writer.write_parties(&batch, &mut summary).await?;
    drop(batch);
    for chunk in sub_units.chunks(writer.statement_rows) {
        writer.write_parties(chunk, &mut summary).await?;
    }
    drop(sub_units);
    let mut roles: Vec<ErRoleRow> = Vec::with_capacity(writer.statement_rows);
    for r in &v.roles {
        roles.push(role_row(&v, catalogue, r));
        if roles.len() >= writer.statement_rows {
            writer.write_roles(&roles, now, &mut summary).await?;
            roles.clear();
        }
    }
    writer.write_roles(&roles, now, &mut summary).await?;
    writer.finish().await?;

    summary.transactions = writer.committed;
    let done = Instant::now();
    summary.validate_seconds = (validated - started).as_secs_f64();
    summary.write_seconds = (done - validated).as_secs_f64();
    summary.seconds = (done - started).as_secs_f64();
    let rows = summary.organizations.created
        + summary.organizations.updated
        + summary.organizations.unchanged
        + summary.persons.created
        + summary.persons.updated
        + summary.persons.unchanged
        + summary.roles.created
        + summary.roles.unchanged;
    summary.rows_per_second = if summary.seconds > 0.0 { rows as f64 / summary.seconds } else { 0.0 };
    Ok(summary)
}

/// Reads the identifying keys of every party already in the register, in pages.
async fn load_register(store: &Store) -> Result<Validation, ImportError> {
    let store_error = |e: fullmakt_store::StoreError| ImportError::Write { committed_transactions: 0, message: e.to_string() };
    let mut v = Validation {
        orgs: HashMap::new(),
        persons: HashMap::new(),
        uuids: HashMap::new(),
        used_ids: HashSet::new(),
        to_assign: Vec::new(),
        roles: Vec::new(),
        errors: Vec::new(),
        lines: 0,
        max_id: 0,
    };
    let mut after = 0;
    loop {
        let page = store.party_keys_after(after, 50_000).await.map_err(store_error)?;
        let Some(last) = page.last() else { break };
        after = last.party_id;
        for p in page {
            let known = Known {
                party_id: p.party_id,
                line: 0,
                main_unit: p.main_unit_org_number.as_deref().map(org_key).unwrap_or(0),
                in_register: true,
            };
            if let Some(o) = &p.org_number {
                v.orgs.insert(org_key(o), known);
            } else if let Some(pid) = &p.person_identifier {
                v.persons.insert(person_key(pid), known);
            }
            if let Ok(u) = uuid::Uuid::parse_str(&p.party_uuid) {
                v.uuids.insert(uuid_key(&u), p.party_id);
            }
            v.used_ids.insert(p.party_id);
            v.max_id = v.max_id.max(p.party_id);
        }
    }
    Ok(v)
}

fn validate_line(v: &mut Validation, catalogue: &Catalogue, number: u64, text: &LineText<'_>, synthetic: SyntheticNumbers) {
    let line = match parse_line(text) {
        Ok(l) => l,
        Err(message) => return v.error(number, message),
    };
    let result = match line {
        Line::Organization(o) => validate_org(v, number, &o),
        Line::Person(p) => validate_person(v, number, &p, synthetic),
        Line::Role(r) => validate_role(v, catalogue, number, &r, synthetic),
    };
    if let Err(message) = result {
        v.error(number, message);
    }
}

/// Validation errors are plain messages: the line number is added around them.
fn text(e: RegisterError) -> String {
    e.to_string()
}

fn validate_org(v: &mut Validation, number: u64, o: &OrgLine<'_>) -> Result<(), String> {
    let org = parse_org_number("orgNumber", &o.org_number).map_err(text)?;
    parse_name(&o.name).map_err(text)?;
    o.unit_type.as_deref().map(parse_unit_type).transpose().map_err(text)?;
    let main_unit = o.main_unit.as_deref().map(|m| parse_org_number("mainUnit", m)).transpose().map_err(text)?;
    if main_unit == Some(org) {
        return Err(text(RegisterError::OwnMainUnit));
    }
    let party_id = o.party_id.map(parse_party_id).transpose().map_err(text)?;
    let party_uuid = o.party_uuid.as_deref().map(|u| parse_party_uuid("partyUuid", u)).transpose().map_err(text)?;
    let key = org_key(&org.to_string());
    let main_unit = main_unit.map(|m| org_key(&m.to_string())).unwrap_or(0);
    let what = format!("organisation {org}");
    let known = v.orgs.get(&key).copied();
    let known = claim(v, number, &what, known, party_id, party_uuid, HolderKey::Organisation(key))?;
    v.orgs.insert(key, Known { main_unit, line: number, ..known });
    Ok(())
}

fn validate_person(v: &mut Validation, number: u64, p: &PersonLine<'_>, synthetic: SyntheticNumbers) -> Result<(), String> {
    let pid = parse_person_identifier("personIdentifier", &p.person_identifier, synthetic).map_err(text)?;
    parse_name(&p.name).map_err(text)?;
    let party_id = p.party_id.map(parse_party_id).transpose().map_err(text)?;
    let party_uuid = p.party_uuid.as_deref().map(|u| parse_party_uuid("partyUuid", u)).transpose().map_err(text)?;
    let key = person_key(&pid.to_string());
    let what = format!("person {pid}");
    let known = v.persons.get(&key).copied();
    let known = claim(v, number, &what, known, party_id, party_uuid, HolderKey::Person(key))?;
    v.persons.insert(key, Known { line: number, ..known });
    Ok(())
}

/// The party id and uuid rules shared by organisation and person lines.
fn claim(
    v: &mut Validation,
    number: u64,
    what: &str,
    known: Option<Known>,
    party_id: Option<i64>,
    party_uuid: Option<uuid::Uuid>,
    key: HolderKey,
) -> Result<Known, String> {
    match known {
        Some(k) if k.line > 0 => Err(format!("{what} is already on line {}", k.line)),
        Some(k) => {
            // In the register: the line may repeat its identifiers, not change them.
            if let Some(id) = party_id.filter(|id| *id != k.party_id) {
                return Err(format!("{what} has party id {} in the register, not {id}", k.party_id));
            }
            if let Some(u) = party_uuid {
                if v.uuids.get(&uuid_key(&u)) != Some(&k.party_id) {
                    return Err(format!("{what} has another party uuid in the register than {u}"));
                }
            }
            Ok(k)
        }
        None => {
            let party_id = match party_id {
                Some(id) => {
                    if !v.used_ids.insert(id) {
                        return Err(text(RegisterError::PartyIdTaken(id)));
                    }
                    v.max_id = v.max_id.max(id);
                    id
                }
                None => {
                    v.to_assign.push(key);
                    0
                }
            };
            if let Some(u) = party_uuid {
                match v.uuids.entry(uuid_key(&u)) {
                    MapEntry::Occupied(_) => return Err(text(RegisterError::PartyUuidTaken(u.hyphenated().to_string()))),
                    // The id may still be 0 here; uniqueness is all this map needs for new parties.
                    MapEntry::Vacant(slot) => {
                        slot.insert(party_id);
                    }
                }
            }
            Ok(Known { party_id, line: number, main_unit: 0, in_register: false })
        }
    }
}

fn validate_role(v: &mut Validation, catalogue: &Catalogue, number: u64, r: &RoleLine<'_>, synthetic: SyntheticNumbers) -> Result<(), String> {
    let unit = parse_org_number("from", &r.from).map_err(text)?;
    let role = catalogue.er_role(r.role.trim()).map_err(|e| text(e.into()))?;
    let holder = match (&r.to_person, &r.to_organization) {
        (Some(p), None) => HolderKey::Person(person_key(&parse_person_identifier("toPerson", p, synthetic).map_err(text)?.to_string())),
        (None, Some(o)) => HolderKey::Organisation(org_key(&parse_org_number("toOrganization", o).map_err(text)?.to_string())),
        _ => return Err("a role line has exactly one of toPerson and toOrganization".into()),
    };
    v.roles.push(RoleRef { unit: org_key(&unit.to_string()), role: role.index, holder, line: number });
    Ok(())
}

/// After pass 1: ids for new parties, main units one level deep, role parties present.
fn check_references(v: &mut Validation) {
    let mut next = (v.max_id + 1).max(FIRST_ASSIGNED_PARTY_ID);
    for key in std::mem::take(&mut v.to_assign) {
        let known = match key {
            HolderKey::Organisation(k) => v.orgs.get_mut(&k),
            HolderKey::Person(k) => v.persons.get_mut(&k),
        };
        if let Some(known) = known {
            while v.used_ids.contains(&next) {
                next += 1;
            }
            if next > i64::from(i32::MAX) {
                let line = known.line;
                v.error(line, RegisterError::NoPartyIdLeft.to_string());
                return;
            }
            known.party_id = next;
            v.used_ids.insert(next);
            next += 1;
        }
    }
    let mut errors = Vec::new();
    for (key, known) in &v.orgs {
        if known.main_unit == 0 {
            continue;
        }
        let child = format!("{key:09}");
        let main = format!("{:09}", known.main_unit);
        match v.orgs.get(&known.main_unit) {
            None => errors.push(LineError { line: known.line, message: format!("the main unit {main} of {child} is neither in the register nor in the file") }),
            Some(parent) if parent.main_unit != 0 => {
                // Report it where the file made the mistake: on the child's line if the file
                // names the main unit, else on the line that made the main unit a sub-unit.
                let line = if known.line > 0 { known.line } else { parent.line };
                errors.push(LineError {
                    line,
                    message: format!(
                        "{main} is the main unit of {child} and would itself be a sub-unit (of {:09}); a main unit cannot have one",
                        parent.main_unit
                    ),
                });
            }
            Some(_) => {}
        }
        if errors.len() >= MAX_REPORTED_ERRORS {
            break;
        }
    }
    for r in &v.roles {
        if errors.len() >= MAX_REPORTED_ERRORS {
            break;
        }
        if !v.orgs.contains_key(&r.unit) {
            errors.push(LineError { line: r.line, message: format!("the unit {:09} is neither in the register nor in the file", r.unit) });
        }
        match r.holder {
            HolderKey::Person(p) if !v.persons.contains_key(&p) => {
                errors.push(LineError { line: r.line, message: "the person (toPerson) is neither in the register nor in the file".into() })
            }
            HolderKey::Organisation(o) if !v.orgs.contains_key(&o) => errors.push(LineError {
                line: r.line,
                message: format!("the organisation {o:09} (toOrganization) is neither in the register nor in the file"),
            }),
            _ => {}
        }
    }
    errors.sort_by_key(|e| e.line);
    v.errors.extend(errors);
}

/// The row to write for a party line (already validated), and whether it is new.
fn party_row(v: &Validation, line: &Line<'_>, now: i64) -> Option<(PartyRow, bool)> {
    match line {
        Line::Organization(o) => {
            let org = o.org_number.trim();
            let known = v.orgs.get(&org_key(org))?;
            let main_unit_party_id = (known.main_unit != 0).then(|| v.orgs.get(&known.main_unit).map(|m| m.party_id)).flatten();
            Some((
                PartyRow {
                    party_id: known.party_id,
                    party_uuid: row_uuid(o.party_uuid.as_deref()),
                    party_type: PartyType::Organisation.as_str().to_owned(),
                    org_number: Some(org.to_owned()),
                    person_identifier: None,
                    name: o.name.trim().to_owned(),
                    unit_type: o.unit_type.as_deref().map(|u| u.trim().to_owned()),
                    main_unit_party_id,
                    is_deleted: 0,
                    created: now,
                    last_changed: now,
                    main_unit_org_number: None,
                },
                !known.in_register,
            ))
        }
        Line::Person(p) => {
            let pid = p.person_identifier.trim();
            let known = v.persons.get(&person_key(pid))?;
            Some((
                PartyRow {
                    party_id: known.party_id,
                    party_uuid: row_uuid(p.party_uuid.as_deref()),
                    party_type: PartyType::Person.as_str().to_owned(),
                    org_number: None,
                    person_identifier: Some(pid.to_owned()),
                    name: p.name.trim().to_owned(),
                    unit_type: None,
                    main_unit_party_id: None,
                    is_deleted: 0,
                    created: now,
                    last_changed: now,
                    main_unit_org_number: None,
                },
                !known.in_register,
            ))
        }
        Line::Role(_) => None,
    }
}

/// The given uuid in canonical form, or a fresh one. For a party already in the register the
/// upsert keeps the stored uuid, so the fresh one is never stored.
fn row_uuid(given: Option<&str>) -> String {
    given
        .and_then(|u| uuid::Uuid::parse_str(u.trim()).ok())
        .unwrap_or_else(uuid::Uuid::new_v4)
        .hyphenated()
        .to_string()
}

fn role_row(v: &Validation, catalogue: &Catalogue, r: &RoleRef) -> ErRoleRow {
    // INVARIANT: check_references made sure every key is known.
    let id_of = |holder: HolderKey| match holder {
        HolderKey::Organisation(o) => v.orgs.get(&o).map_or(0, |k| k.party_id),
        HolderKey::Person(p) => v.persons.get(&p).map_or(0, |k| k.party_id),
    };
    ErRoleRow {
        from_party_id: id_of(HolderKey::Organisation(r.unit)),
        role_code: catalogue.role_at(r.role).code.clone(),
        to_party_id: id_of(r.holder),
    }
}

/// Writes batches in transactions of about `rows_per_transaction` rows.
struct Writer<'a> {
    store: &'a Store,
    rows_per_transaction: usize,
    /// Rows per multi-row statement (and per batch handed to the store).
    statement_rows: usize,
    tx: Option<WriteTx>,
    rows_in_tx: usize,
    changed_in_tx: u64,
    committed: u64,
}

impl<'a> Writer<'a> {
    fn new(store: &'a Store, rows_per_transaction: usize) -> Self {
        Self {
            store,
            rows_per_transaction,
            statement_rows: (fullmakt_store::MAX_BIND_PARAMETERS / 11).min(rows_per_transaction),
            tx: None,
            rows_in_tx: 0,
            changed_in_tx: 0,
            committed: 0,
        }
    }

    fn error(&self, e: impl std::fmt::Display) -> ImportError {
        ImportError::Write { committed_transactions: self.committed, message: e.to_string() }
    }

    async fn tx(&mut self) -> Result<&mut WriteTx, ImportError> {
        if self.tx.is_none() {
            let mut tx = self.store.begin_write().await.map_err(|e| self.error(e))?;
            tx.prepare_bulk_load().await.map_err(|e| self.error(e))?;
            self.tx = Some(tx);
        }
        let committed = self.committed;
        // INVARIANT: set just above.
        self.tx.as_mut().ok_or(ImportError::Write { committed_transactions: committed, message: "no transaction".into() })
    }

    async fn write_parties(&mut self, batch: &[(PartyRow, bool)], summary: &mut ImportSummary) -> Result<(), ImportError> {
        if batch.is_empty() {
            return Ok(());
        }
        for party_type in [PartyType::Organisation, PartyType::Person] {
            let rows: Vec<PartyRow> = batch.iter().filter(|(r, _)| r.party_type == party_type.as_str()).map(|(r, _)| r.clone()).collect();
            if rows.is_empty() {
                continue;
            }
            let created = batch.iter().filter(|(r, new)| *new && r.party_type == party_type.as_str()).count() as u64;
            let result = self.tx().await?.upsert_parties(&rows).await;
            let affected = result.map_err(|e| self.error(e))?;
            let counts = match party_type {
                PartyType::Organisation => &mut summary.organizations,
                PartyType::Person => &mut summary.persons,
            };
            let updated = affected.saturating_sub(created);
            counts.created += created;
            counts.updated += updated;
            counts.unchanged += rows.len() as u64 - created - updated;
            self.changed_in_tx += affected;
        }
        self.after_rows(batch.len()).await
    }

    async fn write_roles(&mut self, batch: &[ErRoleRow], now: i64, summary: &mut ImportSummary) -> Result<(), ImportError> {
        if batch.is_empty() {
            return Ok(());
        }
        let result = self.tx().await?.insert_er_roles(batch, now).await;
        let created = result.map_err(|e| self.error(e))?;
        summary.roles.created += created;
        summary.roles.unchanged += batch.len() as u64 - created;
        self.changed_in_tx += created;
        self.after_rows(batch.len()).await
    }

    async fn after_rows(&mut self, rows: usize) -> Result<(), ImportError> {
        self.rows_in_tx += rows;
        if self.rows_in_tx >= self.rows_per_transaction {
            self.end_transaction().await?;
        }
        Ok(())
    }

    /// Commits the open transaction, or rolls it back (no change-sequence bump) if it changed
    /// nothing; then lets SQLite move the WAL into the database so it does not grow with the
    /// whole import (the CLI has no background checkpointer).
    async fn end_transaction(&mut self) -> Result<(), ImportError> {
        if let Some(tx) = self.tx.take() {
            if self.changed_in_tx > 0 {
                tx.commit().await.map_err(|e| self.error(e))?;
                self.committed += 1;
                self.store.checkpoint().await.map_err(|e| self.error(e))?;
            }
        }
        self.rows_in_tx = 0;
        self.changed_in_tx = 0;
        Ok(())
    }

    async fn finish(&mut self) -> Result<(), ImportError> {
        self.end_transaction().await
    }
}
