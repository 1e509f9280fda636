//! Copies the access-package catalogue embedded in the binary into the `catalogue_*` tables,
//! so SQL (grants, the PIP) can join to packages and roles.
//!
//! Idempotent: the stored digest is compared first, and an equal digest means no write and no
//! change-sequence bump; a second node starting at the same time re-checks the digest under
//! the write lock and backs off. A changed catalogue is upserted (rows keep their ids, so
//! anything referring to a package or role by id stays valid), the link tables are rewritten,
//! and rows the new catalogue no longer has are deleted (which fails, and stops the start, if
//! something still refers to them).

use fullmakt_domain::Catalogue;

use crate::{bind_rows_limit, flag, values_list, Result, Store, WriteTx};

/// One value to bind; lets the catalogue tables share one upsert routine.
enum Value {
    Text(String),
    OptionalText(Option<String>),
    Int(i64),
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Text(s.to_owned())
    }
}

impl From<&String> for Value {
    fn from(s: &String) -> Self {
        Value::Text(s.clone())
    }
}

impl From<&Option<String>> for Value {
    fn from(s: &Option<String>) -> Self {
        Value::OptionalText(s.clone())
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Int(flag(b))
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

struct Table {
    name: &'static str,
    columns: &'static [&'static str],
    /// The conflict target: the key columns, which come first in `columns`.
    key_columns: usize,
}

const GROUPS: Table = Table {
    name: "catalogue_area_groups",
    columns: &["id", "urn", "name_nb", "name_nn", "name_en", "entity_type"],
    key_columns: 1,
};
const AREAS: Table = Table {
    name: "catalogue_areas",
    columns: &["id", "group_id", "urn", "name_nb", "name_nn", "name_en", "icon_url"],
    key_columns: 1,
};
const PACKAGES: Table = Table {
    name: "catalogue_packages",
    columns: &[
        "id",
        "package_index",
        "code",
        "urn",
        "area_id",
        "entity_type",
        "provider",
        "is_assignable",
        "is_delegable",
        "is_available_for_service_owners",
        "name_nb",
        "name_nn",
        "name_en",
    ],
    key_columns: 1,
};
const ROLES: Table = Table {
    name: "catalogue_roles",
    columns: &[
        "id",
        "code",
        "urn",
        "legacy_urn",
        "legacy_code",
        "provider",
        "entity_type",
        "is_key_role",
        "is_assignable",
        "is_available_for_service_owners",
        "name_nb",
        "name_nn",
        "name_en",
    ],
    key_columns: 1,
};
const VARIANTS: Table = Table {
    name: "catalogue_entity_variants",
    columns: &["id", "code", "entity_type", "name_nb", "name_nn", "name_en"],
    key_columns: 1,
};
const ROLE_PACKAGES: Table = Table {
    name: "catalogue_role_packages",
    columns: &["role_id", "package_id", "entity_variant", "has_access", "can_delegate", "can_assign"],
    key_columns: 3,
};
const ROLE_MAP: Table = Table { name: "catalogue_role_map", columns: &["has_role_id", "get_role_id"], key_columns: 2 };
const VARIANT_ROLES: Table =
    Table { name: "catalogue_entity_variant_roles", columns: &["id", "entity_variant", "role_id"], key_columns: 1 };

impl Store {
    /// The digest of the catalogue the tables hold, if one was loaded.
    pub async fn catalogue_digest(&self) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT digest FROM catalogue_state WHERE id = 1").fetch_optional(&self.pool).await?)
    }

    /// Brings the catalogue tables to `catalogue`. Returns whether anything was written.
    pub async fn sync_catalogue(&self, catalogue: &Catalogue, now: i64) -> Result<bool> {
        if self.catalogue_digest().await?.as_deref() == Some(catalogue.digest()) {
            return Ok(false);
        }
        let mut tx = self.begin_write().await?;
        let current: Option<String> = sqlx::query_scalar("SELECT digest FROM catalogue_state WHERE id = 1")
            .fetch_optional(&mut *tx.tx)
            .await?;
        if current.as_deref() == Some(catalogue.digest()) {
            // Another process loaded it while this one waited for the write lock; dropping the
            // transaction also rolls back its change-sequence bump.
            return Ok(false);
        }
        tx.write_catalogue(catalogue).await?;
        sqlx::query(
            "INSERT INTO catalogue_state (id, digest, loaded) VALUES (1, $1, $2) \
             ON CONFLICT (id) DO UPDATE SET digest = excluded.digest, loaded = excluded.loaded",
        )
        .bind(catalogue.digest())
        .bind(now)
        .execute(&mut *tx.tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }
}

impl WriteTx {
    async fn write_catalogue(&mut self, c: &Catalogue) -> Result<()> {
        let groups: Vec<Vec<Value>> = c
            .area_groups
            .iter()
            .map(|g| vec![(&g.id).into(), (&g.urn).into(), (&g.name.nb).into(), (&g.name.nn).into(), (&g.name.en).into(), (&g.entity_type).into()])
            .collect();
        let areas: Vec<Vec<Value>> = c
            .areas
            .iter()
            .map(|a| {
                vec![
                    (&a.id).into(),
                    (&c.area_group(a.group).id).into(),
                    (&a.urn).into(),
                    (&a.name.nb).into(),
                    (&a.name.nn).into(),
                    (&a.name.en).into(),
                    (&a.icon_url).into(),
                ]
            })
            .collect();
        let packages: Vec<Vec<Value>> = c
            .packages
            .iter()
            .map(|p| {
                vec![
                    (&p.id).into(),
                    i64::from(p.index.0).into(),
                    (&p.code).into(),
                    (&p.urn).into(),
                    (&c.area(p.area).id).into(),
                    (&p.entity_type).into(),
                    (&p.provider).into(),
                    p.is_assignable.into(),
                    p.is_delegable.into(),
                    p.is_available_for_service_owners.into(),
                    (&p.name.nb).into(),
                    (&p.name.nn).into(),
                    (&p.name.en).into(),
                ]
            })
            .collect();
        let roles: Vec<Vec<Value>> = c
            .roles
            .iter()
            .map(|r| {
                vec![
                    (&r.id).into(),
                    (&r.code).into(),
                    (&r.urn).into(),
                    (&r.legacy_urn).into(),
                    (&r.legacy_code).into(),
                    (&r.provider).into(),
                    (&r.entity_type).into(),
                    r.is_key_role.into(),
                    r.is_assignable.into(),
                    r.is_available_for_service_owners.into(),
                    (&r.name.nb).into(),
                    (&r.name.nn).into(),
                    (&r.name.en).into(),
                ]
            })
            .collect();
        let variants: Vec<Vec<Value>> = c
            .entity_variants
            .iter()
            .map(|v| vec![(&v.id).into(), (&v.code).into(), (&v.entity_type).into(), (&v.name.nb).into(), (&v.name.nn).into(), (&v.name.en).into()])
            .collect();

        // Entities first (upserted, so ids referred to from elsewhere stay), then the link
        // tables are rewritten, then entities the catalogue dropped are deleted.
        self.upsert(&GROUPS, groups).await?;
        self.upsert(&AREAS, areas).await?;
        self.upsert(&PACKAGES, packages).await?;
        self.upsert(&ROLES, roles).await?;
        self.upsert(&VARIANTS, variants).await?;
        for table in [&ROLE_PACKAGES, &ROLE_MAP, &VARIANT_ROLES] {
            sqlx::query(&format!("DELETE FROM {}", table.name)).execute(&mut *self.tx).await?;
        }
        let role_packages = c
            .role_packages
            .iter()
            .map(|rp| {
                vec![
                    (&c.role_at(rp.role).id).into(),
                    (&c.package(rp.package).id).into(),
                    Value::Text(rp.entity_variant.clone().unwrap_or_default()),
                    rp.has_access.into(),
                    rp.can_delegate.into(),
                    rp.can_assign.into(),
                ]
            })
            .collect();
        self.upsert(&ROLE_PACKAGES, role_packages).await?;
        let role_map = c.role_map.iter().map(|m| vec![(&c.role_at(m.has_role).id).into(), (&c.role_at(m.get_role).id).into()]).collect();
        self.upsert(&ROLE_MAP, role_map).await?;
        let variant_roles =
            c.entity_variant_roles.iter().map(|v| vec![(&v.id).into(), (&v.entity_variant).into(), (&c.role_at(v.role).id).into()]).collect();
        self.upsert(&VARIANT_ROLES, variant_roles).await?;
        self.delete_others(&PACKAGES, c.packages.iter().map(|p| p.id.as_str())).await?;
        self.delete_others(&AREAS, c.areas.iter().map(|a| a.id.as_str())).await?;
        self.delete_others(&GROUPS, c.area_groups.iter().map(|g| g.id.as_str())).await?;
        self.delete_others(&ROLES, c.roles.iter().map(|r| r.id.as_str())).await?;
        self.delete_others(&VARIANTS, c.entity_variants.iter().map(|v| v.id.as_str())).await?;
        Ok(())
    }

    async fn upsert(&mut self, table: &Table, rows: Vec<Vec<Value>>) -> Result<()> {
        let columns = table.columns.join(", ");
        let key = table.columns[..table.key_columns].join(", ");
        let others = &table.columns[table.key_columns..];
        let on_conflict = if others.is_empty() {
            "DO NOTHING".to_owned()
        } else {
            format!("DO UPDATE SET {}", others.iter().map(|c| format!("{c} = excluded.{c}")).collect::<Vec<_>>().join(", "))
        };
        for chunk in rows.chunks(bind_rows_limit(table.columns.len())) {
            let sql = format!(
                "INSERT INTO {} ({columns}) VALUES {} ON CONFLICT ({key}) {on_conflict}",
                table.name,
                values_list(self.backend, chunk.len(), table.columns.len())
            );
            let mut query = sqlx::query(&sql);
            for row in chunk {
                for value in row {
                    query = match value {
                        Value::Text(s) => query.bind(s.as_str()),
                        Value::OptionalText(s) => query.bind(s.as_deref()),
                        Value::Int(i) => query.bind(*i),
                    };
                }
            }
            query.execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    /// Deletes the rows of `table` whose id is not in `keep`.
    async fn delete_others<'a>(&mut self, table: &Table, keep: impl Iterator<Item = &'a str>) -> Result<()> {
        let keep: Vec<&str> = keep.collect();
        if keep.is_empty() {
            sqlx::query(&format!("DELETE FROM {}", table.name)).execute(&mut *self.tx).await?;
            return Ok(());
        }
        let placeholders = (1..=keep.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
        let sql = format!("DELETE FROM {} WHERE id NOT IN ({placeholders})", table.name);
        let mut query = sqlx::query(&sql);
        for id in keep {
            query = query.bind(id);
        }
        query.execute(&mut *self.tx).await?;
        Ok(())
    }
}
