//! The access-package catalogue: area groups, areas, access packages, roles (ER/CCR, CRA,
//! Altinn 2 and Altinn 3), which role gives which package (per organisation form), the
//! role → role map, and the organisation forms (entity variants).
//!
//! The data is Altinn's public seed (`data/catalogue/`, see its README for provenance), embedded
//! in the binary with `include_str!` and parsed once into this in-memory, indexed, read-only
//! model. Every package has a dense small index ([`PackageIndex`]) so a set of packages is a
//! bitset ([`PackageSet`]); the index is stable for one catalogue version, so persist package
//! ids or codes, never indexes.
//!
//! Pure: no I/O. The store copies this model into tables at start (for SQL joins), but the
//! embedded files are the source of truth.

mod search;

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;

pub use search::{SearchField, SearchHit, SearchWord};

/// Catalogue texts come in the three official written languages; bokmål is the base text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Language {
    #[default]
    Nb,
    Nn,
    En,
}

impl Language {
    /// Picks the language from an `Accept-Language` header value: the first supported tag in
    /// quality order (`nb`, `no` and `nb-NO` are bokmål, `nn*` nynorsk, `en*` English), bokmål
    /// when nothing matches or the header is absent.
    pub fn from_accept_language(header: Option<&str>) -> Self {
        let Some(header) = header else { return Self::Nb };
        let mut choices: Vec<(f32, usize, Self)> = Vec::new();
        for (position, item) in header.split(',').enumerate() {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let quality = parts
                .find_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.trim().parse::<f32>().ok()))
                .unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or_default();
            let language = match primary {
                "nb" | "no" => Self::Nb,
                "nn" => Self::Nn,
                "en" => Self::En,
                _ => continue,
            };
            if quality > 0.0 {
                choices.push((quality, position, language));
            }
        }
        choices.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        choices.first().map(|c| c.2).unwrap_or_default()
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::Nb => "nb",
            Self::Nn => "nn",
            Self::En => "en",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Text {
    pub nb: String,
    pub nn: String,
    pub en: String,
}

impl Text {
    pub fn get(&self, language: Language) -> &str {
        match language {
            Language::Nb => &self.nb,
            Language::Nn => &self.nn,
            Language::En => &self.en,
        }
    }
}

/// Position of a package in [`Catalogue::packages`]: dense from 0, at most [`PackageSet::CAPACITY`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PackageIndex(pub u16);

/// Position of a role in [`Catalogue::roles`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoleIndex(pub u16);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AreaIndex(pub u16);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AreaGroupIndex(pub u16);

#[derive(Debug, Clone)]
pub struct AreaGroup {
    pub index: AreaGroupIndex,
    pub id: String,
    pub key: String,
    /// Always `None` upstream (Altinn sets no URN on area groups).
    pub urn: Option<String>,
    pub name: Text,
    /// Entity type key: `Organization` or `Person`.
    pub entity_type: String,
    pub areas: Vec<AreaIndex>,
}

#[derive(Debug, Clone)]
pub struct Area {
    pub index: AreaIndex,
    pub id: String,
    pub key: String,
    /// `accesspackage:area:<slug>` (no `urn:altinn:` prefix, as upstream).
    pub urn: String,
    pub name: Text,
    pub group: AreaGroupIndex,
    pub icon_url: String,
    pub packages: Vec<PackageIndex>,
}

#[derive(Debug, Clone)]
pub struct Package {
    pub index: PackageIndex,
    pub id: String,
    pub key: String,
    /// `urn:altinn:accesspackage:<code>` (one upstream package's URN suffix differs from its code).
    pub urn: String,
    /// The value the PDP sees as `urn:altinn:accesspackage` (pdp.md §7.2).
    pub code: String,
    pub name: Text,
    pub area: AreaIndex,
    /// Entity type key of the party the package is about: `Organization` or `Person`.
    pub entity_type: String,
    pub entity_type_id: String,
    /// Provider code, e.g. `sys-altinn3`, `sys-cra`.
    pub provider: String,
    /// May be assigned directly (to a person, organisation or standard system user).
    pub is_assignable: bool,
    /// May be passed on through client delegation.
    pub is_delegable: bool,
    /// Service owners may name it in policies (Altinn's `isResourcePolicyAvailable`).
    pub is_available_for_service_owners: bool,
}

#[derive(Debug, Clone)]
pub struct Role {
    pub index: RoleIndex,
    pub id: String,
    pub key: String,
    pub urn: String,
    pub legacy_urn: Option<String>,
    /// `daglig-leder`, `regnskapsforer`, `a0212`, `rettighetshaver`, …
    pub code: String,
    /// ER's own code in lower case (`dagl`, `regn`, `ffør`); `None` for most non-ER roles.
    pub legacy_code: Option<String>,
    pub name: Text,
    pub provider: String,
    pub entity_type: String,
    pub is_key_role: bool,
    pub is_assignable: bool,
    pub is_available_for_service_owners: bool,
    /// The upstream section: `CCR External Roles (Enhetsregisteret)`, `Altinn 3 Roles`, …
    pub section: String,
}

/// Provider code of Enhetsregisteret (the Central Coordinating Register): ER roles.
pub const ER_PROVIDER: &str = "sys-ccr";

impl Role {
    /// An Enhetsregisteret role: one that can hold between units and persons in the register.
    pub fn is_er_role(&self) -> bool {
        self.provider == ER_PROVIDER
    }

    /// The ER code as ER writes it (`DAGL`, `REGN`, `FFØR`), for ER roles.
    pub fn er_code(&self) -> Option<String> {
        self.legacy_code.as_ref().filter(|_| self.is_er_role()).map(|c| c.to_uppercase())
    }
}

/// One row of "role R gives package P": `has_access` = may use it, `can_delegate` = may pass it
/// on (and assign it), `can_assign` = may assign it. `entity_variant` limits the row to
/// organisations of that form (`NUF`, `ESEK`, `BRL`); `None` applies to every form.
#[derive(Debug, Clone)]
pub struct RolePackage {
    pub role: RoleIndex,
    pub package: PackageIndex,
    pub entity_variant: Option<String>,
    pub has_access: bool,
    pub can_delegate: bool,
    pub can_assign: bool,
}

impl RolePackage {
    /// Does this row apply to an organisation of `unit_type` (None: form unknown, so only
    /// rows for every form apply)?
    pub fn applies_to(&self, unit_type: Option<&str>) -> bool {
        match &self.entity_variant {
            None => true,
            Some(variant) => unit_type == Some(variant.as_str()),
        }
    }
}

/// "An entity holding `has_role` also holds `get_role`" (ER roles to Altinn 2 role codes).
#[derive(Debug, Clone, Copy)]
pub struct RoleMapping {
    pub has_role: RoleIndex,
    pub get_role: RoleIndex,
}

#[derive(Debug, Clone)]
pub struct EntityType {
    pub id: String,
    pub key: String,
    pub name: Text,
    pub provider: String,
}

#[derive(Debug, Clone)]
pub struct EntityVariant {
    pub id: String,
    pub key: String,
    /// The organisation-form code (`AS`, `ENK`, `NUF`, …) or, for non-organisations, a name
    /// such as `Person` or `AgentSystem`.
    pub code: String,
    /// Upstream's description of the form, used as its name.
    pub name: Text,
    pub entity_type: String,
}

/// "Role R can exist on organisations of form V".
#[derive(Debug, Clone)]
pub struct EntityVariantRole {
    pub id: String,
    pub entity_variant: String,
    pub role: RoleIndex,
}

#[derive(Debug, Clone)]
pub struct Provider {
    pub id: String,
    pub key: String,
    pub code: String,
    pub name: String,
}

/// A set of packages as a bitset over [`PackageIndex`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PackageSet([u64; 4]);

impl PackageSet {
    /// The most packages a catalogue may have; [`Catalogue::parse`] refuses more.
    pub const CAPACITY: usize = 256;

    pub fn insert(&mut self, p: PackageIndex) {
        self.0[usize::from(p.0 / 64)] |= 1 << (p.0 % 64);
    }

    pub fn contains(&self, p: PackageIndex) -> bool {
        self.0[usize::from(p.0 / 64)] & (1 << (p.0 % 64)) != 0
    }

    pub fn union(&self, other: &Self) -> Self {
        let mut out = *self;
        for (a, b) in out.0.iter_mut().zip(other.0) {
            *a |= b;
        }
        out
    }

    /// Whether the two sets share a package: one AND per word, no allocation.
    pub fn intersects(&self, other: &Self) -> bool {
        self.0.iter().zip(other.0).any(|(a, b)| a & b != 0)
    }

    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|w| *w == 0)
    }

    pub fn len(&self) -> usize {
        self.0.iter().map(|w| w.count_ones() as usize).sum()
    }

    pub fn iter(&self) -> impl Iterator<Item = PackageIndex> + '_ {
        (0..Self::CAPACITY as u16).map(PackageIndex).filter(|p| self.contains(*p))
    }
}

impl std::fmt::Debug for PackageSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.iter().map(|p| p.0)).finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogueError {
    #[error("catalogue file {file}: {error}")]
    Json { file: &'static str, error: String },
    #[error("catalogue file {file}: {what} `{value}` is not defined")]
    Reference { file: &'static str, what: &'static str, value: String },
    #[error("catalogue file {file}: `{value}` appears twice")]
    Duplicate { file: &'static str, value: String },
    #[error("the catalogue has {0} packages; fullmakt's package sets hold at most 256")]
    TooManyPackages(usize),
}

/// Why a role lookup for the register failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoleLookupError {
    #[error("no role `{0}` in the catalogue")]
    Unknown(String),
    #[error("`{0}` is not an Enhetsregisteret (ER) role")]
    NotAnErRole(String),
}

/// The catalogue files as they are embedded, in a fixed order (also the digest's order).
pub const FILES: [(&str, &str); 10] = [
    ("area-groups.json", include_str!("../../../../data/catalogue/area-groups.json")),
    ("areas.json", include_str!("../../../../data/catalogue/areas.json")),
    ("packages.json", include_str!("../../../../data/catalogue/packages.json")),
    ("roles.json", include_str!("../../../../data/catalogue/roles.json")),
    ("role-packages.json", include_str!("../../../../data/catalogue/role-packages.json")),
    ("role-map.json", include_str!("../../../../data/catalogue/role-map.json")),
    ("entity-types.json", include_str!("../../../../data/catalogue/entity-types.json")),
    ("entity-variants.json", include_str!("../../../../data/catalogue/entity-variants.json")),
    ("entity-variant-roles.json", include_str!("../../../../data/catalogue/entity-variant-roles.json")),
    ("providers.json", include_str!("../../../../data/catalogue/providers.json")),
];

/// Upstream's area icons are relative to this CDN folder (`AreaConstants.AltinnCDNPackageIcons`);
/// the extract kept the constant's name as a prefix, which is resolved here.
const ICON_BASE: &str = "https://altinncdn.no/authorization/accesspackageicons/";
const ICON_PLACEHOLDER: &str = "AltinnCDNPackageIcons";

#[derive(Debug)]
pub struct Catalogue {
    pub area_groups: Vec<AreaGroup>,
    pub areas: Vec<Area>,
    pub packages: Vec<Package>,
    pub roles: Vec<Role>,
    pub role_packages: Vec<RolePackage>,
    pub role_map: Vec<RoleMapping>,
    pub entity_types: Vec<EntityType>,
    pub entity_variants: Vec<EntityVariant>,
    pub entity_variant_roles: Vec<EntityVariantRole>,
    pub providers: Vec<Provider>,
    digest: String,
    group_by_id: HashMap<String, AreaGroupIndex>,
    area_by_id: HashMap<String, AreaIndex>,
    package_by_id: HashMap<String, PackageIndex>,
    package_by_urn: HashMap<String, PackageIndex>,
    package_by_code: HashMap<String, PackageIndex>,
    role_by_id: HashMap<String, RoleIndex>,
    /// URNs and legacy URNs, lower-cased (policies write `urn:altinn:rolecode:DAGL` too).
    role_by_urn: HashMap<String, RoleIndex>,
    /// Codes and legacy codes, lower-cased.
    role_by_code: HashMap<String, RoleIndex>,
    /// Row numbers in `role_packages` per role.
    packages_of_role: Vec<Vec<usize>>,
}

// Raw file shapes (only the fields fullmakt uses; unknown fields are ignored).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawGroup {
    id: String,
    key: String,
    urn: Option<String>,
    name: Text,
    entity_type: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawArea {
    id: String,
    key: String,
    urn: String,
    name: Text,
    group_id: String,
    icon_url: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPackage {
    id: String,
    key: String,
    urn: String,
    code: String,
    name: Text,
    area_id: String,
    entity_type: String,
    entity_type_id: String,
    provider: String,
    is_assignable: bool,
    is_delegable: bool,
    is_available_for_service_owners: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRole {
    id: String,
    key: String,
    urn: String,
    legacy_urn: Option<String>,
    code: String,
    legacy_code: Option<String>,
    name: Text,
    provider: String,
    entity_type: String,
    is_key_role: bool,
    is_assignable: bool,
    is_available_for_service_owners: bool,
    section: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRolePackage {
    role_id: String,
    package_id: String,
    entity_variant: Option<String>,
    has_access: bool,
    can_delegate: bool,
    can_assign: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRoleMap {
    has_role_id: String,
    get_role_id: String,
}

#[derive(Deserialize)]
struct RawEntityType {
    id: String,
    key: String,
    name: Text,
    provider: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawVariant {
    id: String,
    key: String,
    code: String,
    name: Text,
    entity_type: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawVariantRole {
    id: String,
    entity_variant: String,
    role_id: String,
}

#[derive(Deserialize)]
struct RawProvider {
    id: String,
    key: String,
    code: String,
    name: String,
}

fn parse_file<T: serde::de::DeserializeOwned>(file: &'static str, text: &str) -> Result<Vec<T>, CatalogueError> {
    serde_json::from_str(text).map_err(|e| CatalogueError::Json { file, error: e.to_string() })
}

fn unique<I: Copy>(map: &mut HashMap<String, I>, file: &'static str, key: String, value: I) -> Result<(), CatalogueError> {
    if map.insert(key.clone(), value).is_some() {
        return Err(CatalogueError::Duplicate { file, value: key });
    }
    Ok(())
}

fn index_u16(i: usize) -> u16 {
    // INVARIANT: callers check the counts against PackageSet::CAPACITY or u16 before indexing.
    u16::try_from(i).unwrap_or(u16::MAX)
}

/// FNV-1a, 64 bit: a digest that is the same on every platform and Rust version (std's
/// hashers promise neither), used to see whether the stored catalogue is this one.
fn fnv1a(bytes: impl Iterator<Item = u8>, mut hash: u64) -> u64 {
    for b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

impl Catalogue {
    /// The catalogue embedded in this binary, parsed on first use.
    pub fn embedded() -> &'static Catalogue {
        static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
        // INVARIANT: the embedded files are fixed at build time and `embedded_catalogue_parses`
        // (below) parses them in every test run, so this cannot fail in a built binary.
        CATALOGUE.get_or_init(|| Catalogue::parse(&FILES).expect("the embedded access-package catalogue is valid"))
    }

    /// Parses catalogue files given as (file name, contents) in the order of [`FILES`].
    pub fn parse(files: &[(&'static str, &str); 10]) -> Result<Catalogue, CatalogueError> {
        let [groups, areas, packages, roles, role_packages, role_map, entity_types, variants, variant_roles, providers] =
            files;
        let raw_groups: Vec<RawGroup> = parse_file(groups.0, groups.1)?;
        let raw_areas: Vec<RawArea> = parse_file(areas.0, areas.1)?;
        let raw_packages: Vec<RawPackage> = parse_file(packages.0, packages.1)?;
        let raw_roles: Vec<RawRole> = parse_file(roles.0, roles.1)?;
        let raw_role_packages: Vec<RawRolePackage> = parse_file(role_packages.0, role_packages.1)?;
        let raw_role_map: Vec<RawRoleMap> = parse_file(role_map.0, role_map.1)?;
        let raw_entity_types: Vec<RawEntityType> = parse_file(entity_types.0, entity_types.1)?;
        let raw_variants: Vec<RawVariant> = parse_file(variants.0, variants.1)?;
        let raw_variant_roles: Vec<RawVariantRole> = parse_file(variant_roles.0, variant_roles.1)?;
        let raw_providers: Vec<RawProvider> = parse_file(providers.0, providers.1)?;

        if raw_packages.len() > PackageSet::CAPACITY {
            return Err(CatalogueError::TooManyPackages(raw_packages.len()));
        }
        if raw_groups.len() > usize::from(u16::MAX) || raw_areas.len() > usize::from(u16::MAX) || raw_roles.len() > usize::from(u16::MAX) {
            return Err(CatalogueError::Json { file: roles.0, error: "more than 65535 entries".into() });
        }
        let digest = format!(
            "{:016x}",
            files.iter().fold(0xcbf2_9ce4_8422_2325, |h, (name, text)| fnv1a(text.bytes(), fnv1a(name.bytes(), h)))
        );

        let mut group_by_id = HashMap::new();
        let mut area_groups = Vec::with_capacity(raw_groups.len());
        for (i, g) in raw_groups.into_iter().enumerate() {
            let index = AreaGroupIndex(index_u16(i));
            unique(&mut group_by_id, groups.0, g.id.to_ascii_lowercase(), index)?;
            area_groups.push(AreaGroup {
                index,
                id: g.id.to_ascii_lowercase(),
                key: g.key,
                urn: g.urn,
                name: g.name,
                entity_type: g.entity_type,
                areas: Vec::new(),
            });
        }

        let mut area_by_id = HashMap::new();
        let mut area_list = Vec::with_capacity(raw_areas.len());
        for (i, a) in raw_areas.into_iter().enumerate() {
            let index = AreaIndex(index_u16(i));
            let group = *group_by_id
                .get(&a.group_id.to_ascii_lowercase())
                .ok_or_else(|| CatalogueError::Reference { file: areas.0, what: "area group", value: a.group_id.clone() })?;
            unique(&mut area_by_id, areas.0, a.id.to_ascii_lowercase(), index)?;
            area_groups[usize::from(group.0)].areas.push(index);
            let icon_url = match a.icon_url.strip_prefix(ICON_PLACEHOLDER) {
                Some(file) => format!("{ICON_BASE}{file}"),
                None => a.icon_url,
            };
            area_list.push(Area {
                index,
                id: a.id.to_ascii_lowercase(),
                key: a.key,
                urn: a.urn,
                name: a.name,
                group,
                icon_url,
                packages: Vec::new(),
            });
        }

        let mut package_by_id = HashMap::new();
        let mut package_by_urn = HashMap::new();
        let mut package_by_code = HashMap::new();
        let mut package_list = Vec::with_capacity(raw_packages.len());
        for (i, p) in raw_packages.into_iter().enumerate() {
            let index = PackageIndex(index_u16(i));
            let area = *area_by_id
                .get(&p.area_id.to_ascii_lowercase())
                .ok_or_else(|| CatalogueError::Reference { file: packages.0, what: "area", value: p.area_id.clone() })?;
            unique(&mut package_by_id, packages.0, p.id.to_ascii_lowercase(), index)?;
            unique(&mut package_by_urn, packages.0, p.urn.to_ascii_lowercase(), index)?;
            unique(&mut package_by_code, packages.0, p.code.to_ascii_lowercase(), index)?;
            area_list[usize::from(area.0)].packages.push(index);
            package_list.push(Package {
                index,
                id: p.id.to_ascii_lowercase(),
                key: p.key,
                urn: p.urn,
                code: p.code,
                name: p.name,
                area,
                entity_type: p.entity_type,
                entity_type_id: p.entity_type_id.to_ascii_lowercase(),
                provider: p.provider,
                is_assignable: p.is_assignable,
                is_delegable: p.is_delegable,
                is_available_for_service_owners: p.is_available_for_service_owners,
            });
        }

        let mut role_by_id = HashMap::new();
        let mut role_by_urn = HashMap::new();
        let mut role_by_code = HashMap::new();
        let mut role_list = Vec::with_capacity(raw_roles.len());
        for (i, r) in raw_roles.into_iter().enumerate() {
            let index = RoleIndex(index_u16(i));
            unique(&mut role_by_id, roles.0, r.id.to_ascii_lowercase(), index)?;
            unique(&mut role_by_urn, roles.0, r.urn.to_lowercase(), index)?;
            if let Some(legacy) = &r.legacy_urn {
                unique(&mut role_by_urn, roles.0, legacy.to_lowercase(), index)?;
            }
            unique(&mut role_by_code, roles.0, r.code.to_lowercase(), index)?;
            if let Some(legacy) = &r.legacy_code {
                unique(&mut role_by_code, roles.0, legacy.to_lowercase(), index)?;
            }
            role_list.push(Role {
                index,
                id: r.id.to_ascii_lowercase(),
                key: r.key,
                urn: r.urn,
                legacy_urn: r.legacy_urn,
                code: r.code,
                legacy_code: r.legacy_code,
                name: r.name,
                provider: r.provider,
                entity_type: r.entity_type,
                is_key_role: r.is_key_role,
                is_assignable: r.is_assignable,
                is_available_for_service_owners: r.is_available_for_service_owners,
                section: r.section,
            });
        }

        let role_ref = |file: &'static str, id: &str| {
            role_by_id
                .get(&id.to_ascii_lowercase())
                .copied()
                .ok_or_else(|| CatalogueError::Reference { file, what: "role", value: id.to_owned() })
        };
        let mut packages_of_role = vec![Vec::new(); role_list.len()];
        let mut role_package_list = Vec::with_capacity(raw_role_packages.len());
        for rp in raw_role_packages {
            let role = role_ref(role_packages.0, &rp.role_id)?;
            let package = *package_by_id.get(&rp.package_id.to_ascii_lowercase()).ok_or_else(|| CatalogueError::Reference {
                file: role_packages.0,
                what: "package",
                value: rp.package_id.clone(),
            })?;
            packages_of_role[usize::from(role.0)].push(role_package_list.len());
            role_package_list.push(RolePackage {
                role,
                package,
                entity_variant: rp.entity_variant,
                has_access: rp.has_access,
                can_delegate: rp.can_delegate,
                can_assign: rp.can_assign,
            });
        }
        let role_mappings = raw_role_map
            .into_iter()
            .map(|m| Ok(RoleMapping { has_role: role_ref(role_map.0, &m.has_role_id)?, get_role: role_ref(role_map.0, &m.get_role_id)? }))
            .collect::<Result<Vec<_>, CatalogueError>>()?;
        let variant_roles = raw_variant_roles
            .into_iter()
            .map(|v| {
                Ok(EntityVariantRole {
                    id: v.id.to_ascii_lowercase(),
                    entity_variant: v.entity_variant,
                    role: role_ref(variant_roles.0, &v.role_id)?,
                })
            })
            .collect::<Result<Vec<_>, CatalogueError>>()?;

        Ok(Catalogue {
            area_groups,
            areas: area_list,
            packages: package_list,
            roles: role_list,
            role_packages: role_package_list,
            role_map: role_mappings,
            entity_types: raw_entity_types
                .into_iter()
                .map(|t| EntityType { id: t.id.to_ascii_lowercase(), key: t.key, name: t.name, provider: t.provider })
                .collect(),
            entity_variants: raw_variants
                .into_iter()
                .map(|v| EntityVariant {
                    id: v.id.to_ascii_lowercase(),
                    key: v.key,
                    code: v.code,
                    name: v.name,
                    entity_type: v.entity_type,
                })
                .collect(),
            entity_variant_roles: variant_roles,
            providers: raw_providers
                .into_iter()
                .map(|p| Provider { id: p.id.to_ascii_lowercase(), key: p.key, code: p.code, name: p.name })
                .collect(),
            digest,
            group_by_id,
            area_by_id,
            package_by_id,
            package_by_urn,
            package_by_code,
            role_by_id,
            role_by_urn,
            role_by_code,
            packages_of_role,
        })
    }

    /// A digest of the catalogue files (hex FNV-1a 64): equal digests mean equal catalogues.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    pub fn package(&self, index: PackageIndex) -> &Package {
        &self.packages[usize::from(index.0)]
    }

    pub fn role_at(&self, index: RoleIndex) -> &Role {
        &self.roles[usize::from(index.0)]
    }

    pub fn area(&self, index: AreaIndex) -> &Area {
        &self.areas[usize::from(index.0)]
    }

    pub fn area_group(&self, index: AreaGroupIndex) -> &AreaGroup {
        &self.area_groups[usize::from(index.0)]
    }

    /// By id (a UUID, any case).
    pub fn package_by_id(&self, id: &str) -> Option<&Package> {
        self.package_by_id.get(&id.to_ascii_lowercase()).map(|i| self.package(*i))
    }

    /// By full URN (`urn:altinn:accesspackage:skatt-naering`), `:code` or bare code, as the
    /// reference's `package/urn/{urnValue}` accepts. A bare value is tried as a code and then as
    /// a URN suffix (they differ for one upstream package).
    pub fn package_by_urn(&self, value: &str) -> Option<&Package> {
        let value = value.trim().to_ascii_lowercase();
        if value.starts_with("urn:") {
            return self.package_by_urn.get(&value).map(|i| self.package(*i));
        }
        let code = value.strip_prefix(':').unwrap_or(&value);
        self.package_by_code
            .get(code)
            .or_else(|| self.package_by_urn.get(&format!("urn:altinn:accesspackage:{code}")))
            .map(|i| self.package(*i))
    }

    pub fn area_by_id(&self, id: &str) -> Option<&Area> {
        self.area_by_id.get(&id.to_ascii_lowercase()).map(|i| self.area(*i))
    }

    pub fn area_group_by_id(&self, id: &str) -> Option<&AreaGroup> {
        self.group_by_id.get(&id.to_ascii_lowercase()).map(|i| self.area_group(*i))
    }

    /// A role by id, URN or legacy URN (`urn:altinn:rolecode:dagl`), code (`daglig-leder`) or
    /// ER code (`DAGL`, `dagl`, `FFØR`); all case-insensitive.
    pub fn role(&self, key: &str) -> Option<&Role> {
        let key = key.trim().to_lowercase();
        self.role_by_id
            .get(&key)
            .or_else(|| self.role_by_urn.get(&key))
            .or_else(|| self.role_by_code.get(&key))
            .map(|i| self.role_at(*i))
    }

    /// Like [`Catalogue::role`], but the role must be an Enhetsregisteret role.
    pub fn er_role(&self, key: &str) -> Result<&Role, RoleLookupError> {
        let role = self.role(key).ok_or_else(|| RoleLookupError::Unknown(key.to_owned()))?;
        if !role.is_er_role() {
            return Err(RoleLookupError::NotAnErRole(key.to_owned()));
        }
        Ok(role)
    }

    /// The role → package rows of `role` that apply to an organisation of `unit_type`
    /// (rows tied to another organisation form are left out).
    pub fn role_packages_for(&self, role: RoleIndex, unit_type: Option<&str>) -> impl Iterator<Item = &RolePackage> + '_ {
        let unit_type = unit_type.map(str::to_owned);
        self.packages_of_role
            .get(usize::from(role.0))
            .into_iter()
            .flatten()
            .map(|row| &self.role_packages[*row])
            .filter(move |row| row.applies_to(unit_type.as_deref()))
    }

    /// The packages `role` lets its holder use (`hasAccess`) for an organisation of `unit_type`.
    pub fn packages_given_by_role(&self, role: RoleIndex, unit_type: Option<&str>) -> PackageSet {
        let mut set = PackageSet::default();
        for row in self.role_packages_for(role, unit_type).filter(|r| r.has_access) {
            set.insert(row.package);
        }
        set
    }

    /// The packages `role` lets its holder pass on (`canDelegate`) for an organisation of `unit_type`.
    pub fn packages_delegable_by_role(&self, role: RoleIndex, unit_type: Option<&str>) -> PackageSet {
        let mut set = PackageSet::default();
        for row in self.role_packages_for(role, unit_type).filter(|r| r.can_delegate) {
            set.insert(row.package);
        }
        set
    }

    /// Roles an entity holding `role` also holds through the role map.
    pub fn mapped_roles(&self, role: RoleIndex) -> impl Iterator<Item = &Role> + '_ {
        self.role_map.iter().filter(move |m| m.has_role == role).map(|m| self.role_at(m.get_role))
    }

    /// The Altinn 2 role codes (`urn:altinn:rolecode`) a holder of `role` has: the role's own
    /// legacy code and those of the roles it maps to (`dagl` → `dagl`, `utinn`, `hadm`, …), in
    /// lower case. Policies compare them under string-equal in either case.
    pub fn legacy_role_codes(&self, role: RoleIndex) -> Vec<String> {
        let role = self.role_at(role);
        let mut codes: Vec<String> = role.legacy_code.iter().cloned().collect();
        codes.extend(self.mapped_roles(role.index).map(|r| r.legacy_code.clone().unwrap_or_else(|| r.code.clone())));
        codes.iter_mut().for_each(|c| *c = c.to_lowercase());
        codes
    }

    pub fn entity_type(&self, key: &str) -> Option<&EntityType> {
        self.entity_types.iter().find(|t| t.key == key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogue() -> &'static Catalogue {
        Catalogue::embedded()
    }

    #[test]
    fn embedded_catalogue_parses() {
        Catalogue::parse(&FILES).unwrap();
    }

    #[test]
    fn counts_match_the_catalogue_readme() {
        let c = catalogue();
        assert_eq!(c.packages.len(), 223);
        assert_eq!(c.packages.iter().filter(|p| p.entity_type == "Organization").count(), 147);
        assert_eq!(c.packages.iter().filter(|p| p.entity_type == "Person").count(), 76);
        assert_eq!(c.areas.len(), 49);
        assert_eq!(c.area_groups.len(), 5);
        assert_eq!(c.roles.len(), 148);
        assert_eq!(c.roles.iter().filter(|r| r.is_er_role()).count(), 61);
        assert_eq!(c.roles.iter().filter(|r| r.is_key_role).count(), 8);
        assert_eq!(c.role_packages.len(), 1285);
        assert_eq!(c.role_map.len(), 304);
        assert_eq!(c.entity_variants.len(), 58);
        assert_eq!(c.entity_variant_roles.len(), 369);
        assert_eq!(c.entity_types.len(), 6);
        assert_eq!(c.providers.len(), 5);
        assert_eq!(c.packages.iter().filter(|p| p.is_assignable).count(), 175);
        assert_eq!(c.packages.iter().filter(|p| p.is_delegable).count(), 170);
        assert_eq!(c.packages.iter().filter(|p| p.is_available_for_service_owners).count(), 214);
        let per_group: Vec<(String, usize)> = c.area_groups.iter().map(|g| (g.key.clone(), g.areas.len())).collect();
        for (key, n) in [("Guardianship", 17), ("Inhabitant", 11), ("Industry", 10), ("General", 7), ("Special", 4)] {
            assert!(per_group.contains(&(key.to_owned(), n)), "{key}: {per_group:?}");
        }
        assert_eq!(c.areas.iter().map(|a| a.packages.len()).sum::<usize>(), 223);
    }

    #[test]
    fn package_indexes_are_dense_and_match_positions() {
        let c = catalogue();
        for (i, p) in c.packages.iter().enumerate() {
            assert_eq!(usize::from(p.index.0), i);
            assert_eq!(c.package(p.index).id, p.id);
        }
    }

    #[test]
    fn packages_are_found_by_id_urn_colon_code_and_code() {
        let c = catalogue();
        let p = c.package_by_urn("urn:altinn:accesspackage:skatt-naering").unwrap();
        assert_eq!(p.code, "skatt-naering");
        assert_eq!(c.package_by_urn(":skatt-naering").unwrap().id, p.id);
        assert_eq!(c.package_by_urn("skatt-naering").unwrap().id, p.id);
        assert_eq!(c.package_by_urn("SKATT-NAERING").unwrap().id, p.id);
        assert_eq!(c.package_by_id(&p.id.to_uppercase()).unwrap().code, "skatt-naering");
        assert!(c.package_by_urn("urn:altinn:accesspackage:nope").is_none());
        assert!(c.package_by_urn("skatt").is_none());
        // The one package whose URN suffix is not its code answers to both.
        let by_code = c.package_by_urn("vergemal-namsmannen-tvangsfullbyrdelse-forliksradet").unwrap();
        let by_suffix = c.package_by_urn("namsmannen-tvangsfullbyrdelse-forliksradet").unwrap();
        assert_eq!(by_code.id, by_suffix.id);
        assert_eq!(c.package_by_urn(&by_code.urn).unwrap().id, by_code.id);
    }

    #[test]
    fn roles_are_found_by_every_name_case_insensitively() {
        let c = catalogue();
        let dagl = c.role("daglig-leder").unwrap();
        for key in ["DAGL", "dagl", "Dagl", "urn:altinn:external-role:ccr:daglig-leder", "urn:altinn:rolecode:dagl", "urn:altinn:rolecode:DAGL", &dagl.id, &dagl.id.to_uppercase()] {
            assert_eq!(c.role(key).unwrap().code, "daglig-leder", "{key}");
        }
        assert_eq!(dagl.er_code().as_deref(), Some("DAGL"));
        assert!(dagl.is_key_role);
        assert_eq!(c.role("REGN").unwrap().code, "regnskapsforer");
        assert_eq!(c.role("FFØR").unwrap().code, "forretningsforer");
        assert!(c.role("fför").is_none(), "ö is not ø");
        assert_eq!(c.role("ffør").unwrap().er_code().as_deref(), Some("FFØR"));
        assert_eq!(c.role("a0212").unwrap().provider, "sys-altinn2");
        assert!(c.role("nope").is_none());
        assert_eq!(c.er_role("REVI").unwrap().code, "revisor");
        assert_eq!(c.er_role("rettighetshaver").unwrap_err(), RoleLookupError::NotAnErRole("rettighetshaver".into()));
        assert_eq!(c.er_role("XYZ").unwrap_err(), RoleLookupError::Unknown("XYZ".into()));
    }

    #[test]
    fn role_packages_follow_the_spec_figures() {
        let c = catalogue();
        let count = |code: &str, unit: Option<&str>| c.packages_given_by_role(c.role(code).unwrap().index, unit).len();
        // pdp.md §7.3.
        assert_eq!(count("DAGL", Some("AS")), 133);
        assert_eq!(count("LEDE", Some("AS")), 132);
        assert_eq!(count("INNH", Some("ENK")), 131);
        assert_eq!(count("BEST", None), 115);
        assert_eq!(count("BOBE", None), 126);
        let regn = c.packages_given_by_role(c.role("REGN").unwrap().index, Some("AS"));
        let codes: Vec<&str> = regn.iter().map(|p| c.package(p).code.as_str()).collect();
        assert_eq!(codes.len(), 3);
        assert!(codes.iter().all(|c| c.starts_with("regnskapsforer-")), "{codes:?}");
        // REGN's rows give access but may not be delegated on.
        assert!(c.packages_delegable_by_role(c.role("REGN").unwrap().index, Some("AS")).is_empty());
        assert_eq!(count("PRIV", None), 35);
    }

    #[test]
    fn entity_variant_rows_apply_only_to_their_organisation_form() {
        let c = catalogue();
        let ffor = c.role("FFØR").unwrap().index;
        let eiendom = c.package_by_urn("forretningsforer-eiendom").unwrap().index;
        let nuf = c.package_by_urn("tjenester-nuf").unwrap().index;
        for form in ["ESEK", "BRL"] {
            let set = c.packages_given_by_role(ffor, Some(form));
            assert!(set.contains(eiendom), "{form}");
            assert!(!set.contains(nuf), "{form}");
        }
        let as_set = c.packages_given_by_role(ffor, Some("AS"));
        assert!(!as_set.contains(eiendom));
        assert!(c.packages_given_by_role(ffor, None).is_empty());
        let nuf_set = c.packages_given_by_role(ffor, Some("NUF"));
        assert!(nuf_set.contains(nuf));
        assert!(!nuf_set.contains(eiendom));
        assert_eq!(nuf_set.len(), 10, "{nuf_set:?}");
    }

    #[test]
    fn the_role_map_maps_er_roles_to_altinn_2_codes() {
        let c = catalogue();
        let mapped: Vec<&str> = c.mapped_roles(c.role("REGN").unwrap().index).map(|r| r.code.as_str()).collect();
        for code in ["a0239", "a0240", "a0241"] {
            assert!(mapped.contains(&code), "{mapped:?}");
        }
    }

    #[test]
    fn icons_point_at_altinns_cdn() {
        let c = catalogue();
        assert!(c.areas.iter().all(|a| a.icon_url.starts_with(ICON_BASE)));
        assert!(c.areas[0].icon_url.ends_with(".svg"));
    }

    #[test]
    fn package_sets_are_bitsets() {
        let mut s = PackageSet::default();
        assert!(s.is_empty());
        s.insert(PackageIndex(0));
        s.insert(PackageIndex(200));
        s.insert(PackageIndex(200));
        assert_eq!(s.len(), 2);
        assert!(s.contains(PackageIndex(200)) && !s.contains(PackageIndex(199)));
        let mut t = PackageSet::default();
        t.insert(PackageIndex(64));
        assert_eq!(s.union(&t).iter().map(|p| p.0).collect::<Vec<_>>(), vec![0, 64, 200]);
    }

    #[test]
    fn accept_language_picks_a_supported_language() {
        assert_eq!(Language::from_accept_language(None), Language::Nb);
        assert_eq!(Language::from_accept_language(Some("en")), Language::En);
        assert_eq!(Language::from_accept_language(Some("nn-NO, en;q=0.5")), Language::Nn);
        assert_eq!(Language::from_accept_language(Some("de, en;q=0.3, nn;q=0.8")), Language::Nn);
        assert_eq!(Language::from_accept_language(Some("no")), Language::Nb);
        assert_eq!(Language::from_accept_language(Some("fr")), Language::Nb);
        assert_eq!(Language::from_accept_language(Some("en;q=0, nn")), Language::Nn);
        assert_eq!(Language::from_accept_language(Some("garbage;;;q=x")), Language::Nb);
    }

    #[test]
    fn a_broken_file_is_a_clear_error() {
        let mut files = FILES;
        files[2] = ("packages.json", "[{\"id\": 1}]");
        assert!(matches!(Catalogue::parse(&files), Err(CatalogueError::Json { file: "packages.json", .. })));
        let mut files = FILES;
        files[4] = ("role-packages.json", r#"[{"roleId":"x","packageId":"y","entityVariant":null,"hasAccess":true,"canDelegate":true,"canAssign":false}]"#);
        assert!(matches!(Catalogue::parse(&files), Err(CatalogueError::Reference { what: "role", .. })));
    }
}
