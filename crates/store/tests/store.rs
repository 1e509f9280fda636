//! Store behaviour on every configured backend: SQLite always, PostgreSQL when
//! FULLMAKT_TEST_POSTGRES_URL names a server (see README.md).

use fullmakt_store::{ClientRow, ErRoleRow, PartyKey, PartyRow, Store, StoreError};

async fn stores() -> Vec<(Store, Option<tempfile::TempDir>)> {
    let mut out = Vec::new();
    for (url, dir) in database_urls().await {
        out.push((Store::connect(&url).await.unwrap(), dir));
    }
    out
}

/// A fresh database per configured backend, by URL (for tests that connect more than once).
async fn database_urls() -> Vec<(String, Option<tempfile::TempDir>)> {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let mut out = vec![(url, Some(dir))];
    if let Some(pg) = test_postgres_url().await {
        out.push((pg, None));
    }
    out
}

/// A fresh database per test on the PostgreSQL server named by FULLMAKT_TEST_POSTGRES_URL.
async fn test_postgres_url() -> Option<String> {
    let base = std::env::var("FULLMAKT_TEST_POSTGRES_URL").ok()?;
    use sqlx::Executor;
    sqlx::any::install_default_drivers();
    let admin = sqlx::AnyPool::connect(&base).await.expect("FULLMAKT_TEST_POSTGRES_URL is set but unreachable");
    // Random, so a leftover database from an earlier run (same pid, say) never collides.
    let name = format!("fullmakt_store_{:016x}{:016x}", std::process::id(), rand_suffix() ^ nanos());
    admin.execute(format!("CREATE DATABASE {name}").as_str()).await.unwrap();
    let (prefix, _) = base.rsplit_once('/').unwrap();
    Some(format!("{prefix}/{name}"))
}

fn nanos() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0)
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

fn client(id: &str) -> ClientRow {
    ClientRow {
        client_id: id.into(),
        client_name: "n".into(),
        description: "d".into(),
        client_orgno: "991825827".into(),
        integration_type: "maskinporten".into(),
        access_token_lifetime: 120,
        active: 1,
        created: 1,
        last_updated: 1,
    }
}

#[tokio::test]
async fn writes_bump_the_change_sequence_and_roll_back_when_dropped() {
    for (store, _dir) in stores().await {
        let before = store.change_sequence().await.unwrap();
        let mut tx = store.begin_write().await.unwrap();
        tx.insert_client(&client("a")).await.unwrap();
        tx.set_client_scopes("a", &["x:y".into(), "x:z".into()]).await.unwrap();
        assert_eq!(tx.sequence(), before + 1);
        tx.commit().await.unwrap();
        assert_eq!(store.change_sequence().await.unwrap(), before + 1);
        assert_eq!(store.client("a").await.unwrap().unwrap().client_name, "n");
        assert_eq!(store.client_scopes("a").await.unwrap(), vec!["x:y", "x:z"]);

        let mut tx = store.begin_write().await.unwrap();
        tx.insert_client(&client("b")).await.unwrap();
        drop(tx);
        assert!(store.client("b").await.unwrap().is_none());
        assert_eq!(store.change_sequence().await.unwrap(), before + 1);

        let mut tx = store.begin_write().await.unwrap();
        assert!(matches!(tx.insert_client(&client("a")).await, Err(StoreError::Conflict)));
    }
}

#[tokio::test]
async fn the_replay_store_remembers_each_grant_once_until_it_expires() {
    for (store, _dir) in stores().await {
        assert!(store.remember_grant("c", "j1", 100, 50).await.unwrap());
        assert!(!store.remember_grant("c", "j1", 100, 50).await.unwrap());
        assert!(!store.remember_grant("c", "j1", 100, 100).await.unwrap(), "held up to and including its expiry");
        assert!(store.remember_grant("other", "j1", 100, 50).await.unwrap());
        assert_eq!(store.forget_expired_grants(101, 1).await.unwrap(), 1);
        assert_eq!(store.forget_expired_grants(101, 10).await.unwrap(), 1);
        assert_eq!(store.forget_expired_grants(101, 10).await.unwrap(), 0);
        assert!(store.remember_grant("c", "j1", 300, 101).await.unwrap());
    }
}

/// A record that has expired no longer counts, whether or not a sweep has deleted it yet; the
/// new use is then remembered for its own lifetime.
#[tokio::test]
async fn an_expired_record_not_yet_swept_does_not_make_a_replay() {
    for (store, _dir) in stores().await {
        assert!(store.remember_grant("c", "j1", 100, 50).await.unwrap());
        assert!(store.remember_grant("c", "j1", 300, 101).await.unwrap(), "expired at 100, so new at 101");
        assert!(!store.remember_grant("c", "j1", 300, 200).await.unwrap(), "the new use is held until 300");
        assert_eq!(store.forget_expired_grants(200, 10).await.unwrap(), 0, "one record, with the new expiry");
        assert_eq!(store.forget_expired_grants(301, 10).await.unwrap(), 1);
    }
}

/// On an SQLite file the grant writer forgets expired uses with each batch, more than the
/// batch adds (so that the upkeep thread need not take the write lock); on PostgreSQL the
/// upkeep sweep does it.
#[tokio::test]
async fn a_grant_writer_on_sqlite_forgets_expired_uses_as_it_records() {
    use fullmakt_store::GrantUse;
    for (store, _dir) in stores().await {
        let old: Vec<GrantUse> = (0..40).map(|i| GrantUse { client_id: "c".into(), jti: format!("old{i}"), expires_at: 100 }).collect();
        store.remember_grants(&old, 50).await.unwrap();
        let mut writer = store.grant_writer();
        let new = GrantUse { client_id: "c".into(), jti: "new".into(), expires_at: 400 };
        assert_eq!(writer.remember_grants(std::slice::from_ref(&new), 200).await.unwrap().0, vec![true]);
        let left = store.forget_expired_grants(200, 1000).await.unwrap();
        match store.backend() {
            fullmakt_store::Backend::Sqlite => assert_eq!(left, 30, "a batch of one forgets 2 + 8 expired uses"),
            fullmakt_store::Backend::Postgres => assert_eq!(left, 40),
        }
        assert!(!store.remember_grant("c", "new", 400, 200).await.unwrap(), "the sweep kept the live use");
        writer.release();
    }
}

/// The upkeep handle works on the same data through a pool of its own: closing it leaves the
/// store open (a shared pool would have closed the server's connections with it).
#[tokio::test]
async fn an_upkeep_handle_sees_the_same_data_through_its_own_connection() {
    for (store, _dir) in stores().await {
        let upkeep = store.upkeep_handle().await.unwrap().expect("a database file or server gets a pool of its own");
        assert!(store.remember_grant("c", "j1", 100, 50).await.unwrap());
        assert_eq!(upkeep.forget_expired_grants(101, 10).await.unwrap(), 1, "the handle sees the store's rows");
        upkeep.checkpoint().await.unwrap();
        upkeep.close().await;
        assert!(store.remember_grant("c", "j1", 300, 50).await.unwrap(), "the store is still open, and the row is gone");
    }
}

#[tokio::test]
async fn a_batch_of_grant_uses_reports_each_and_the_sequence_after_them() {
    use fullmakt_store::GrantUse;
    for (store, _dir) in stores().await {
        let g = |c: &str, j: &str| GrantUse { client_id: c.into(), jti: j.into(), expires_at: 100 };
        assert!(store.remember_grant("c", "old", 100, 50).await.unwrap());
        let mut tx = store.begin_write().await.unwrap();
        tx.insert_client(&client("seq")).await.unwrap();
        let committed = tx.sequence();
        tx.commit().await.unwrap();
        let (fresh, sequence) = store.remember_grants(&[g("c", "new1"), g("c", "old"), g("d", "old"), g("c", "new2")], 50).await.unwrap();
        assert_eq!(fresh, vec![true, false, true, true]);
        assert_eq!(sequence, committed, "the sequence read after the batch sees the committed write");
    }
}

#[tokio::test]
async fn a_background_checkpoint_keeps_committed_data() {
    for (store, _dir) in stores().await {
        let mut tx = store.begin_write().await.unwrap();
        tx.insert_client(&client("ckpt")).await.unwrap();
        tx.commit().await.unwrap();
        store.checkpoint().await.unwrap();
        assert!(store.client("ckpt").await.unwrap().is_some());
    }
}

#[tokio::test]
async fn the_catalogue_is_loaded_once_and_a_second_start_writes_nothing() {
    let catalogue = fullmakt_domain::Catalogue::embedded();
    for (url, _dir) in database_urls().await {
        let store = Store::connect(&url).await.unwrap();
        assert_eq!(store.catalogue_digest().await.unwrap().as_deref(), Some(catalogue.digest()));
        let sequence = store.change_sequence().await.unwrap();
        assert_eq!(sequence, 1, "loading the catalogue is the first state change");
        store.close().await;

        let again = Store::connect(&url).await.unwrap();
        assert_eq!(again.change_sequence().await.unwrap(), sequence, "an unchanged catalogue bumps nothing");
        assert!(!again.sync_catalogue(catalogue, 0).await.unwrap());
        assert_eq!(again.change_sequence().await.unwrap(), sequence);
        for (table, expected) in [
            ("catalogue_area_groups", 5),
            ("catalogue_areas", 49),
            ("catalogue_packages", 223),
            ("catalogue_roles", 148),
            ("catalogue_role_packages", 1285),
            ("catalogue_role_map", 304),
            ("catalogue_entity_variants", 58),
            ("catalogue_entity_variant_roles", 369),
        ] {
            assert_eq!(count(&url, table).await, expected, "{table}");
        }
        again.close().await;
    }
}

async fn count(url: &str, table: &str) -> i64 {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(url).await.unwrap();
    let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(&pool).await.unwrap();
    pool.close().await;
    n
}

#[tokio::test]
async fn a_changed_catalogue_is_rewritten_in_one_state_change() {
    use sqlx::Executor;
    let catalogue = fullmakt_domain::Catalogue::embedded();
    for (url, _dir) in database_urls().await {
        let store = Store::connect(&url).await.unwrap();
        store.close().await;
        // Simulate an older catalogue: a renamed package, a stray package, a lost row, another digest.
        let pool = sqlx::AnyPool::connect(&url).await.unwrap();
        pool.execute("UPDATE catalogue_packages SET name_nb = 'old name' WHERE code = 'jordbruk'").await.unwrap();
        pool.execute(
            "INSERT INTO catalogue_packages (id, package_index, code, urn, area_id, entity_type, provider, is_assignable, \
             is_delegable, is_available_for_service_owners, name_nb, name_nn, name_en) \
             SELECT 'gone', 999, 'gone', 'urn:altinn:accesspackage:gone', area_id, entity_type, provider, 0, 0, 0, 'x', 'x', 'x' \
             FROM catalogue_packages WHERE code = 'jordbruk'",
        )
        .await
        .unwrap();
        pool.execute("DELETE FROM catalogue_role_map").await.unwrap();
        pool.execute("UPDATE catalogue_state SET digest = 'older'").await.unwrap();
        pool.close().await;

        let store = Store::connect(&url).await.unwrap();
        assert_eq!(store.change_sequence().await.unwrap(), 2);
        store.close().await;
        assert_eq!(count(&url, "catalogue_packages").await, 223);
        assert_eq!(count(&url, "catalogue_role_map").await, 304);
        let pool = sqlx::AnyPool::connect(&url).await.unwrap();
        let name: String = sqlx::query_scalar("SELECT name_nb FROM catalogue_packages WHERE code = 'jordbruk'").fetch_one(&pool).await.unwrap();
        assert_eq!(name, "Jordbruk");
        let digest: String = sqlx::query_scalar("SELECT digest FROM catalogue_state").fetch_one(&pool).await.unwrap();
        assert_eq!(digest, catalogue.digest());
        pool.close().await;
    }
}

fn org(party_id: i64, orgno: &str, main_unit: Option<i64>) -> PartyRow {
    PartyRow {
        party_id,
        party_uuid: format!("00000000-0000-4000-8000-{party_id:012}"),
        party_type: "organization".into(),
        org_number: Some(orgno.into()),
        person_identifier: None,
        name: format!("Org {orgno}"),
        unit_type: Some(if main_unit.is_some() { "BEDR" } else { "AS" }.into()),
        main_unit_party_id: main_unit,
        is_deleted: 0,
        created: 10,
        last_changed: 10,
        main_unit_org_number: None,
    }
}

fn person(party_id: i64, pid: &str) -> PartyRow {
    PartyRow {
        party_id,
        party_uuid: format!("00000000-0000-4000-8000-{party_id:012}"),
        party_type: "person".into(),
        org_number: None,
        person_identifier: Some(pid.into()),
        name: format!("Person {pid}"),
        unit_type: None,
        main_unit_party_id: None,
        is_deleted: 0,
        created: 10,
        last_changed: 10,
        main_unit_org_number: None,
    }
}

fn role(from: i64, code: &str, to: i64) -> ErRoleRow {
    ErRoleRow { from_party_id: from, role_code: code.into(), to_party_id: to }
}

#[tokio::test]
async fn parties_are_found_by_every_key_and_keys_are_unique() {
    for (store, _dir) in stores().await {
        let mut tx = store.begin_write().await.unwrap();
        assert_eq!(tx.max_party_id().await.unwrap(), None);
        tx.insert_party(&org(50_000_001, "310000001", None)).await.unwrap();
        tx.insert_party(&org(50_000_002, "310000002", Some(50_000_001))).await.unwrap();
        tx.insert_party(&person(50_000_003, "01010012356")).await.unwrap();
        assert_eq!(tx.max_party_id().await.unwrap(), Some(50_000_003));
        assert!(tx.find_party(PartyKey::OrgNumber("310000002")).await.unwrap().is_some(), "reads see the transaction's own writes");
        tx.commit().await.unwrap();

        let sub = store.find_party(PartyKey::Id(50_000_002)).await.unwrap().unwrap();
        assert_eq!(sub.main_unit_party_id, Some(50_000_001));
        assert_eq!(sub.main_unit_org_number.as_deref(), Some("310000001"));
        assert_eq!(store.find_party(PartyKey::OrgNumber("310000001")).await.unwrap().unwrap().party_id, 50_000_001);
        assert_eq!(store.find_party(PartyKey::PersonIdentifier("01010012356")).await.unwrap().unwrap().party_id, 50_000_003);
        assert_eq!(store.find_party(PartyKey::Uuid(&sub.party_uuid)).await.unwrap().unwrap().party_id, 50_000_002);
        assert!(store.find_party(PartyKey::OrgNumber("999999999")).await.unwrap().is_none());
        assert_eq!(store.sub_units(50_000_001).await.unwrap().len(), 1);

        // Same org number, same uuid, same party id: each a conflict, and the failed write changes nothing.
        for clash in [org(50_000_009, "310000001", None), { let mut p = org(50_000_009, "310000009", None); p.party_uuid = sub.party_uuid.clone(); p }, org(50_000_001, "310000009", None)] {
            let mut tx = store.begin_write().await.unwrap();
            assert!(matches!(tx.insert_party(&clash).await, Err(StoreError::Conflict)), "{clash:?}");
        }
        // The schema refuses a person with an org number and a main unit that does not exist.
        let mut bad = person(50_000_010, "17054026641");
        bad.org_number = Some("310000010".into());
        let mut tx = store.begin_write().await.unwrap();
        assert!(tx.insert_party(&bad).await.is_err());
        drop(tx);
        assert_eq!(store.party_count().await.unwrap(), 3);
    }
}

#[tokio::test]
async fn roles_are_read_both_ways() {
    for (store, _dir) in stores().await {
        let mut tx = store.begin_write().await.unwrap();
        tx.insert_party(&org(50_000_001, "310000001", None)).await.unwrap();
        tx.insert_party(&org(50_000_002, "310000002", None)).await.unwrap();
        tx.insert_party(&person(50_000_003, "01010012356")).await.unwrap();
        tx.insert_er_role(&role(50_000_001, "daglig-leder", 50_000_003), 5).await.unwrap();
        tx.insert_er_role(&role(50_000_002, "styreleder", 50_000_003), 5).await.unwrap();
        tx.insert_er_role(&role(50_000_001, "regnskapsforer", 50_000_002), 5).await.unwrap();
        assert!(tx.has_er_role(&role(50_000_001, "daglig-leder", 50_000_003)).await.unwrap());
        assert!(!tx.has_er_role(&role(50_000_002, "daglig-leder", 50_000_003)).await.unwrap());
        assert!(matches!(tx.insert_er_role(&role(50_000_001, "daglig-leder", 50_000_003), 5).await, Err(StoreError::Conflict)));
        drop(tx);

        let mut tx = store.begin_write().await.unwrap();
        tx.insert_party(&org(50_000_001, "310000001", None)).await.unwrap();
        tx.insert_party(&org(50_000_002, "310000002", None)).await.unwrap();
        tx.insert_party(&person(50_000_003, "01010012356")).await.unwrap();
        assert_eq!(
            tx.insert_er_roles(
                &[role(50_000_001, "daglig-leder", 50_000_003), role(50_000_002, "styreleder", 50_000_003), role(50_000_001, "regnskapsforer", 50_000_002)],
                5
            )
            .await
            .unwrap(),
            3
        );
        assert_eq!(tx.insert_er_roles(&[role(50_000_001, "daglig-leder", 50_000_003), role(50_000_002, "daglig-leder", 50_000_003)], 6).await.unwrap(), 1);
        tx.commit().await.unwrap();

        let in_unit = store.er_roles_in(50_000_001).await.unwrap();
        assert_eq!(in_unit.iter().map(|r| r.role_code.as_str()).collect::<Vec<_>>(), vec!["daglig-leder", "regnskapsforer"]);
        assert_eq!(in_unit[0].to_person_identifier.as_deref(), Some("01010012356"));
        assert_eq!(in_unit[1].to_org_number.as_deref(), Some("310000002"));
        assert_eq!(in_unit[0].from_org_number.as_deref(), Some("310000001"));
        let held = store.er_roles_held_by(50_000_003).await.unwrap();
        assert_eq!(held.len(), 3);
        assert_eq!(store.er_role_codes(50_000_002, 50_000_003).await.unwrap(), vec!["daglig-leder", "styreleder"]);
        assert!(store.er_role_codes(50_000_002, 50_000_001).await.unwrap().is_empty());
        assert_eq!(store.er_role_count().await.unwrap(), 4);
        let mut paged = Vec::new();
        let mut after: Option<ErRoleRow> = None;
        loop {
            let page = store.er_roles_after(after.as_ref(), 1).await.unwrap();
            let Some(last) = page.last().cloned() else { break };
            paged.extend(page);
            after = Some(last);
        }
        assert_eq!(paged.len(), 4);
        assert!(paged.windows(2).all(|w| (w[0].from_party_id, &w[0].role_code, w[0].to_party_id) < (w[1].from_party_id, &w[1].role_code, w[1].to_party_id)));
        // A role to a party that does not exist breaks a reference.
        let mut tx = store.begin_write().await.unwrap();
        assert!(tx.insert_er_role(&role(50_000_001, "daglig-leder", 1), 5).await.is_err());
    }
}

#[tokio::test]
async fn bulk_upserts_insert_update_and_skip_unchanged_rows() {
    for (store, _dir) in stores().await {
        // More rows than one statement holds, to cross a chunk boundary.
        let n = fullmakt_store::MAX_BIND_PARAMETERS / 11 + 7;
        let rows: Vec<PartyRow> = (0..n as i64).map(|i| org(50_000_000 + i, &format!("{:09}", 100_000_000 + i), None)).collect();
        let mut tx = store.begin_write().await.unwrap();
        assert_eq!(tx.upsert_parties(&rows).await.unwrap(), n as u64);
        tx.commit().await.unwrap();
        let mut tx = store.begin_write().await.unwrap();
        assert_eq!(tx.upsert_parties(&rows).await.unwrap(), 0, "identical rows change nothing");
        let mut changed = rows[..3].to_vec();
        changed[0].name = "Renamed".into();
        changed[1].unit_type = None;
        changed[2].main_unit_party_id = Some(50_000_000 + n as i64 - 1);
        changed[0].party_uuid = "00000000-0000-4000-8000-ffffffffffff".into();
        changed[0].created = 99;
        assert_eq!(tx.upsert_parties(&changed).await.unwrap(), 3);
        tx.commit().await.unwrap();
        let renamed = store.find_party(PartyKey::Id(50_000_000)).await.unwrap().unwrap();
        assert_eq!(renamed.name, "Renamed");
        assert_eq!(renamed.created, 10, "created and the uuid are kept");
        assert_eq!(renamed.party_uuid, rows[0].party_uuid);
        assert_eq!(store.find_party(PartyKey::Id(50_000_001)).await.unwrap().unwrap().unit_type, None);
        assert_eq!(store.party_count().await.unwrap(), n as i64);

        let mut seen = Vec::new();
        let mut after = 0;
        loop {
            let page = store.party_keys_after(after, 1000).await.unwrap();
            let Some(last) = page.last() else { break };
            after = last.party_id;
            seen.extend(page);
        }
        assert_eq!(seen.len(), n);
        assert_eq!(seen[2].main_unit_org_number, rows[n - 1].org_number);
        assert_eq!(seen[2].main_unit_party_id, Some(rows[n - 1].party_id));
        assert_eq!((seen[0].party_type.as_str(), seen[0].unit_type.as_deref()), ("organization", Some("AS")));
        assert_eq!(store.max_party_id().await.unwrap(), Some(50_000_000 + n as i64 - 1));
    }
}

fn system_user(id: &str, owner: i64, external_ref: &str) -> fullmakt_store::SystemUserRow {
    fullmakt_store::SystemUserRow {
        id: id.into(),
        system_id: "991825827_system".into(),
        integration_title: "t".into(),
        owner_party_id: owner,
        owner_org_no: "310000001".into(),
        external_ref: external_ref.into(),
        user_type: "standard".into(),
        access_packages: "[]".into(),
        is_deleted: 0,
        created: 1,
        last_changed: 1,
        created_by: "user_id:1".into(),
        changed_by: "user_id:1".into(),
        stream_position: 0,
        list_position: 0,
    }
}

#[tokio::test]
async fn system_user_identities_are_unique_while_active_and_the_stream_sees_every_write() {
    for (store, _dir) in stores().await {
        let mut tx = store.begin_write().await.unwrap();
        tx.insert_party(&org(50_000_001, "310000001", None)).await.unwrap();
        let first = tx.insert_system_user(&system_user("a", 50_000_001, "ref")).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(first.stream_position, 1);

        let mut tx = store.begin_write().await.unwrap();
        assert!(matches!(tx.insert_system_user(&system_user("b", 50_000_001, "ref")).await, Err(StoreError::Conflict)));
        drop(tx);
        let mut tx = store.begin_write().await.unwrap();
        assert!(tx.change_system_user("a", "user_id:2", 2, true).await.unwrap());
        assert!(!tx.change_system_user("a", "user_id:2", 2, true).await.unwrap(), "already deleted");
        // A deleted system user frees its identity.
        tx.insert_system_user(&system_user("b", 50_000_001, "ref")).await.unwrap();
        tx.commit().await.unwrap();

        assert!(store.active_system_user_by_identity("310000001", "ref", "991825827_system").await.unwrap().is_some_and(|r| r.id == "b"));
        let stream: Vec<(String, i64, i64)> =
            store.system_user_stream(0, 10).await.unwrap().into_iter().map(|r| (r.id, r.stream_position, r.is_deleted)).collect();
        // The first position (the insert of a) was superseded by its deletion.
        assert_eq!(stream, vec![("a".into(), 2, 1), ("b".into(), 3, 0)]);
        assert_eq!(store.system_user_stream(2, 10).await.unwrap().len(), 1);
        assert_eq!(store.system_user_stream_end().await.unwrap(), 3);
    }
}

#[tokio::test]
async fn list_cursors_neither_skip_nor_repeat_when_rows_arrive_between_pages() {
    for (store, _dir) in stores().await {
        let mut tx = store.begin_write().await.unwrap();
        tx.insert_party(&org(50_000_001, "310000001", None)).await.unwrap();
        tx.commit().await.unwrap();
        // Two per transaction, so positions tie and the id breaks the tie.
        let insert_two = |a: String, b: String| {
            let store = store.clone();
            async move {
                let mut tx = store.begin_write().await.unwrap();
                tx.insert_system_user(&system_user(&a, 50_000_001, &a)).await.unwrap();
                tx.insert_system_user(&system_user(&b, 50_000_001, &b)).await.unwrap();
                tx.commit().await.unwrap();
            }
        };
        insert_two("m".into(), "c".into()).await;
        insert_two("x".into(), "a".into()).await;
        let mut seen = Vec::new();
        let mut cursor = None;
        let mut round = 0;
        loop {
            let page = store.system_users_of_system("991825827_system", cursor.as_ref(), 3).await.unwrap();
            if page.is_empty() {
                break;
            }
            cursor = page.last().map(|r| (r.list_position, r.id.clone()));
            seen.extend(page.into_iter().map(|r| r.id));
            round += 1;
            if round == 1 {
                // Rows written while the reader is between pages come after everything read.
                insert_two("b".into(), "z".into()).await;
            }
        }
        assert_eq!(seen, vec!["c", "m", "a", "x", "b", "z"]);
    }
}

#[tokio::test]
async fn requests_are_answered_once_and_found_by_identity_until_deleted() {
    for (store, _dir) in stores().await {
        let request = fullmakt_store::RequestRow {
            id: "r1".into(),
            kind: "standard".into(),
            external_ref: "ref".into(),
            system_id: "991825827_system".into(),
            party_org_no: "310000001".into(),
            integration_title: "t".into(),
            rights: "[]".into(),
            access_packages: "[]".into(),
            status: "New".into(),
            redirect_url: None,
            escalated: 0,
            is_deleted: 0,
            created: 1,
            last_changed: 1,
            changed_by: None,
            list_position: 0,
        };
        let mut tx = store.begin_write().await.unwrap();
        tx.insert_request(&request).await.unwrap();
        tx.insert_request(&fullmakt_store::RequestRow { id: "r2".into(), kind: "agent".into(), ..request.clone() }).await.unwrap();
        tx.commit().await.unwrap();
        let found = |kind: &'static str| {
            let store = store.clone();
            async move { store.request_by_identity("310000001", "ref", "991825827_system", kind).await.unwrap().map(|r| r.id) }
        };
        assert_eq!(found("standard").await.as_deref(), Some("r1"));
        assert_eq!(found("agent").await.as_deref(), Some("r2"));
        assert_eq!(store.pending_requests("310000001", "agent", true).await.unwrap().len(), 0);
        assert_eq!(store.pending_requests("310000001", "agent", false).await.unwrap().len(), 1);

        let mut tx = store.begin_write().await.unwrap();
        assert!(tx.escalate_request("r2", "userId:1", 2).await.unwrap());
        assert!(tx.answer_request("r1", "Accepted", "userId:1", 2).await.unwrap());
        assert!(!tx.answer_request("r1", "Rejected", "userId:1", 2).await.unwrap(), "only New is answered");
        tx.commit().await.unwrap();
        assert_eq!(store.request("r1").await.unwrap().unwrap().status, "Accepted");
        assert_eq!(store.pending_requests("310000001", "agent", true).await.unwrap().len(), 1);

        let mut tx = store.begin_write().await.unwrap();
        assert_eq!(tx.delete_requests_by_identity("310000001", "ref", "991825827_system", "standard", 3).await.unwrap(), 1);
        tx.commit().await.unwrap();
        assert_eq!(found("standard").await, None);
        assert_eq!(found("agent").await.as_deref(), Some("r2"));
    }
}

#[tokio::test]
async fn login_rows_are_taken_once_swept_when_expired_and_change_no_configuration() {
    use fullmakt_store::{LoginAttemptRow, TestIdpCodeRow};
    for (store, _dir) in stores().await {
        let sequence = store.change_sequence().await.unwrap();
        let attempt = |state: &str, expires_at| LoginAttemptRow {
            state_hash: state.into(),
            browser_hash: "b".into(),
            nonce: "n".into(),
            code_verifier: "v".into(),
            goto: "/".into(),
            expires_at,
        };
        store.insert_login_attempt(&attempt("s1", 100)).await.unwrap();
        store.insert_login_attempt(&attempt("s2", 300)).await.unwrap();
        assert!(matches!(store.insert_login_attempt(&attempt("s1", 100)).await, Err(StoreError::Conflict)));
        let code = TestIdpCodeRow {
            code_hash: "c1".into(),
            client_id: "fullmakt".into(),
            redirect_uri: "http://x/cb".into(),
            code_challenge: "ch".into(),
            nonce: None,
            scope: "openid".into(),
            person_identifier: "12877800170".into(),
            auth_time: 50,
            expires_at: 100,
        };
        store.insert_test_idp_code(&code).await.unwrap();

        // Two takes race for one row: exactly one gets it.
        let (a, b) = tokio::join!(store.take_login_attempt("s1"), store.take_login_attempt("s1"));
        assert_eq!([a.unwrap(), b.unwrap()].iter().filter(|r| r.is_some()).count(), 1);
        assert_eq!(store.take_test_idp_code("c1").await.unwrap(), Some(code));
        assert_eq!(store.take_test_idp_code("c1").await.unwrap(), None);

        store.insert_login_attempt(&attempt("s3", 100)).await.unwrap();
        assert_eq!(store.forget_expired_logins(200, 10).await.unwrap(), 1);
        assert_eq!(store.take_login_attempt("s3").await.unwrap(), None);
        assert_eq!(store.take_login_attempt("s2").await.unwrap().map(|r| r.expires_at), Some(300));
        assert_eq!(store.change_sequence().await.unwrap(), sequence, "login rows are not configuration");
    }
}

#[tokio::test]
async fn the_test_identity_provider_lists_synthetic_persons_in_pages_and_searches_them() {
    for (store, _dir) in stores().await {
        let mut tx = store.begin_write().await.unwrap();
        // Synthetic numbers have 8 or 9 as their third digit (month + 80); 01010012356 is real.
        for (id, pid, name) in [
            (1, "12877800170", "Kari 50% Nordmann"),
            (2, "01010012356", "Ola Real"),
            (3, "03838500063", "Per Regnskap"),
            (4, "17917200068", "Liv Styreleder"),
        ] {
            let mut p = person(id, pid);
            p.name = name.into();
            tx.insert_party(&p).await.unwrap();
        }
        tx.insert_party(&org(5, "310601004", None)).await.unwrap();
        tx.commit().await.unwrap();
        let ids = |rows: Vec<fullmakt_store::PersonListRow>| rows.into_iter().map(|r| r.party_id).collect::<Vec<_>>();
        assert_eq!(ids(store.synthetic_persons_page(None, 0, 10).await.unwrap()), [1, 3, 4]);
        assert_eq!(ids(store.synthetic_persons_page(None, 0, 2).await.unwrap()), [1, 3]);
        assert_eq!(ids(store.synthetic_persons_page(None, 3, 2).await.unwrap()), [4]);
        assert_eq!(ids(store.synthetic_persons_page(Some("REGNSKAP"), 0, 10).await.unwrap()), [3]);
        assert_eq!(ids(store.synthetic_persons_page(Some("1791"), 0, 10).await.unwrap()), [4]);
        assert_eq!(ids(store.synthetic_persons_page(Some("50%"), 0, 10).await.unwrap()), [1]);
        assert_eq!(ids(store.synthetic_persons_page(Some("5_%"), 0, 10).await.unwrap()), Vec::<i64>::new());
        assert_eq!(ids(store.synthetic_persons_page(Some("Ola"), 0, 10).await.unwrap()), Vec::<i64>::new(), "real persons are never listed");
    }
}

#[tokio::test]
async fn a_grant_writer_keeps_its_connection_and_still_sees_every_commit() {
    use fullmakt_store::GrantUse;
    for (store, _dir) in stores().await {
        let g = |j: &str| GrantUse { client_id: "c".into(), jti: j.into(), expires_at: 100 };
        let mut writer = store.grant_writer();
        let (fresh, before) = writer.remember_grants(&[g("a"), g("b")], 50).await.unwrap();
        assert_eq!(fresh, vec![true, true]);
        // A write on another connection, between two batches of the held one.
        let mut tx = store.begin_write().await.unwrap();
        tx.insert_client(&client("between")).await.unwrap();
        let committed = tx.sequence();
        tx.commit().await.unwrap();
        assert!(committed > before);
        let (fresh, sequence) = writer.remember_grants(&[g("b"), g("c")], 50).await.unwrap();
        assert_eq!(fresh, vec![false, true], "a use recorded by an earlier batch is a replay");
        assert_eq!(sequence, committed, "the held connection reads the sequence as of now");
        // Every grant a replay: no row comes back, and the sequence is read separately.
        let (fresh, sequence) = writer.remember_grants(&[g("a"), g("c")], 50).await.unwrap();
        assert_eq!((fresh, sequence), (vec![false, false], committed));
        // Other connections see what the held one wrote.
        assert!(!store.remember_grant("c", "c", 100, 50).await.unwrap());
        writer.release();
        tokio::time::timeout(std::time::Duration::from_secs(10), store.close()).await.expect("closing waits for no connection");
    }
}

#[tokio::test]
async fn the_inline_sequence_read_sees_every_commit_from_any_connection() {
    for (url, _dir) in database_urls().await {
        let store = Store::connect(&url).await.unwrap();
        let Some(start) = store.change_sequence_inline() else {
            assert!(url.starts_with("postgres"), "an SQLite file reads the sequence inline");
            store.close().await;
            continue;
        };
        assert_eq!(start, store.change_sequence().await.unwrap());
        // A write through this store's pool, then one through a second store on the same file
        // (another process, as far as SQLite can tell).
        let mut tx = store.begin_write().await.unwrap();
        tx.insert_client(&client("here")).await.unwrap();
        let here = tx.sequence();
        tx.commit().await.unwrap();
        assert_eq!(store.change_sequence_inline(), Some(here));
        let other = Store::connect(&url).await.unwrap();
        let mut tx = other.begin_write().await.unwrap();
        tx.insert_client(&client("there")).await.unwrap();
        let there = tx.sequence();
        tx.commit().await.unwrap();
        assert!(there > here);
        assert_eq!(store.change_sequence_inline(), Some(there), "a commit by another connection is seen at once");
        // An uncommitted write is not.
        let tx = other.begin_write().await.unwrap();
        assert_eq!(store.change_sequence_inline(), Some(there));
        drop(tx);
        other.close().await;
        store.close().await;
    }
}

#[tokio::test]
async fn the_sequence_is_known_without_a_query_until_anyone_commits() {
    for (url, _dir) in database_urls().await {
        let store = Store::connect(&url).await.unwrap();
        let Some(start) = store.change_sequence_inline() else {
            assert_eq!(store.change_sequence_if_unchanged(), None, "only an SQLite file can tell");
            store.close().await;
            continue;
        };
        assert_eq!(store.change_sequence_if_unchanged(), Some(start), "nothing committed since the read");
        let commit = |store: Store, name: &'static str| async move {
            let mut tx = store.begin_write().await.unwrap();
            tx.insert_client(&client(name)).await.unwrap();
            let sequence = tx.sequence();
            tx.commit().await.unwrap();
            sequence
        };
        // A commit through this store's pool, through another store on the same file (another
        // process, as far as SQLite can tell), and one after a checkpoint, when the next commit
        // starts the WAL over.
        let other = Store::connect(&url).await.unwrap();
        let mut last = start;
        for (writer, name) in [(&store, "here"), (&other, "there"), (&other, "after the checkpoint")] {
            if name == "after the checkpoint" {
                store.checkpoint().await.unwrap();
                assert_eq!(store.change_sequence_if_unchanged(), Some(last), "a checkpoint commits nothing");
            }
            let committed = commit(writer.clone(), name).await;
            assert!(committed > last);
            assert_eq!(store.change_sequence_if_unchanged(), None, "{name}: a commit is noticed");
            // A pooled read serves as well as an inline one.
            assert_eq!(store.change_sequence().await.unwrap(), committed);
            assert_eq!(store.change_sequence_if_unchanged(), Some(committed), "{name}");
            last = committed;
        }
        // An uncommitted write changes nothing yet.
        let tx = other.begin_write().await.unwrap();
        assert_eq!(store.change_sequence_if_unchanged(), Some(last));
        drop(tx);
        other.close().await;
        store.close().await;
    }
}

/// SQLite keeps a shared lock on a byte of the WAL index (`-shm`) for as long as a process has
/// the database open; a process that can lock that byte exclusively takes the index as unused
/// and truncates it, under the mappings of any process that lost its lock. Watching the index
/// must leave that lock alone: opening and closing a descriptor of the file would drop it.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn watching_the_wal_index_keeps_sqlites_lock_on_it() {
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("locked.db");
    let store = Store::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    let start = store.change_sequence_inline().unwrap();
    assert_eq!(store.change_sequence_if_unchanged(), Some(start), "the index is watched");
    let shm = std::fs::metadata(dir.path().join("locked.db-shm")).unwrap();
    let inode = format!(":{}", shm.ino());
    // /proc/locks: "1: POSIX  ADVISORY  READ 1234 08:01:5678 128 128". SQLite's "DMS" byte is
    // 128 (UNIX_SHM_DMS), held shared by every process with the database open.
    let pid = std::process::id().to_string();
    let locks = std::fs::read_to_string("/proc/locks").unwrap();
    let held = locks.lines().any(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        fields.len() >= 8 && fields[1] == "POSIX" && fields[3] == "READ" && fields[4] == pid && fields[5].ends_with(&inode) && fields[6] == "128"
    });
    assert!(held, "this process no longer holds SQLite's lock on the WAL index:\n{locks}");
    store.close().await;
}

#[tokio::test]
async fn a_grant_writer_waits_for_another_writer_instead_of_failing() {
    use fullmakt_store::GrantUse;
    for (store, _dir) in stores().await {
        let mut writer = store.grant_writer();
        let grant = GrantUse { client_id: "c".into(), jti: "while-locked".into(), expires_at: 100 };
        // Another writer holds the write lock: the batch must wait for it, then be recorded.
        let mut tx = store.begin_write().await.unwrap();
        tx.insert_client(&client("holder")).await.unwrap();
        let committed = tx.sequence();
        // PostgreSQL's row locks do not cover a different table: only SQLite's writer waits.
        let sqlite = store.backend() == fullmakt_store::Backend::Sqlite;
        let (fresh, sequence) = {
            let batch = writer.remember_grants(std::slice::from_ref(&grant), 50);
            tokio::pin!(batch);
            let early = tokio::time::timeout(std::time::Duration::from_millis(200), &mut batch).await;
            if sqlite {
                assert!(early.is_err(), "the batch waited for the lock");
            }
            tx.commit().await.unwrap();
            match early {
                Ok(recorded) => recorded.unwrap(),
                Err(_) => batch.await.unwrap(),
            }
        };
        assert_eq!(fresh, vec![true]);
        if sqlite {
            assert!(sequence >= committed, "the batch ran after the other write committed");
        }
        writer.release();
        store.close().await;
    }
}
