//! Register use cases over the real store, on SQLite and (with FULLMAKT_TEST_POSTGRES_URL)
//! PostgreSQL: every rule, every specific error, and that a refused request changes nothing.

use std::io::Write;

use fullmakt_domain::SyntheticNumbers;
use fullmakt_service::register::import::{import_file, ImportError, ImportOptions};
use fullmakt_service::register::{
    add_organisation, add_person, add_role, find_party, remove_role, roles_held_by, roles_in_unit, roles_of_subject_for_party,
    NewOrganisation, NewPerson, NewRole, PartyLookup, RegisterError, RoleHolder,
};
mod common;
use common::stores;

// Valid organisation numbers (MOD11) and person numbers used below.
const ACME: &str = "310000019";
const ACME_BRANCH: &str = "310000027";
const LEDGER: &str = "310000035";
const HOUSING: &str = "310000043";
const PERSON: &str = "01010012356";
const PERSON_2: &str = "17054026641";

fn synthetic_person() -> String {
    // Tenor style: 15 March 1985 → month + 80.
    (0..1000)
        .map(|i| format!("158385{i:03}"))
        .find_map(|nine| {
            let d: Vec<u32> = nine.bytes().map(|b| u32::from(b - b'0')).collect();
            let k = |w: &[u32], d: &[u32]| match 11 - w.iter().zip(d).map(|(a, b)| a * b).sum::<u32>() % 11 {
                11 => Some(0),
                10 => None,
                c => Some(c),
            };
            let k1 = k(&[3, 7, 6, 1, 8, 9, 4, 5, 2], &d)?;
            let mut d10 = d.clone();
            d10.push(k1);
            let k2 = k(&[5, 4, 3, 2, 7, 6, 5, 4, 3, 2], &d10)?;
            Some(format!("{nine}{k1}{k2}"))
        })
        .unwrap()
}

fn org(orgno: &str, name: &str) -> NewOrganisation {
    NewOrganisation { org_number: orgno.into(), name: name.into(), unit_type: Some("AS".into()), ..Default::default() }
}

fn person(pid: &str, name: &str) -> NewPerson {
    NewPerson { person_identifier: pid.into(), name: name.into(), ..Default::default() }
}

fn role(unit: &str, code: &str, holder: RoleHolder) -> NewRole {
    NewRole { unit: unit.into(), role: code.into(), holder }
}

#[tokio::test]
async fn organisations_get_ids_and_every_clash_has_its_own_error() {
    for (store, _dir) in stores().await {
        let acme = add_organisation(&store, &org(ACME, "Acme AS")).await.unwrap();
        assert_eq!(acme.party_id, 50_000_000, "assigned ids start in Altinn's range");
        assert_eq!(uuid::Uuid::parse_str(&acme.party_uuid).unwrap().get_version_num(), 4);
        assert_eq!(acme.party_type, "organization");
        assert_eq!(acme.unit_type.as_deref(), Some("AS"));

        let given = NewOrganisation {
            party_id: Some(51_483_386),
            party_uuid: Some("B1E4611C-C366-478C-BB99-1171858EC5B4".into()),
            main_unit: Some(ACME.into()),
            unit_type: Some("BEDR".into()),
            ..org(ACME_BRANCH, "Acme AS avd. Bergen")
        };
        let branch = add_organisation(&store, &given).await.unwrap();
        assert_eq!(branch.party_id, 51_483_386);
        assert_eq!(branch.party_uuid, "b1e4611c-c366-478c-bb99-1171858ec5b4");
        assert_eq!(branch.main_unit_party_id, Some(acme.party_id));
        assert_eq!(branch.main_unit_org_number.as_deref(), Some(ACME));
        // The next assigned id continues above the highest given one.
        let ledger = add_organisation(&store, &org(LEDGER, "Ledger Regnskap AS")).await.unwrap();
        assert_eq!(ledger.party_id, 51_483_387);

        let before = store.change_sequence().await.unwrap();
        let cases: Vec<(NewOrganisation, RegisterError)> = vec![
            (org(ACME, "Again"), RegisterError::OrganisationExists(ACME.into())),
            (NewOrganisation { party_id: Some(acme.party_id), ..org(HOUSING, "H") }, RegisterError::PartyIdTaken(acme.party_id)),
            (
                NewOrganisation { party_uuid: Some(acme.party_uuid.clone()), ..org(HOUSING, "H") },
                RegisterError::PartyUuidTaken(acme.party_uuid.clone()),
            ),
            (NewOrganisation { main_unit: Some(HOUSING.into()), ..org("310000051", "H") }, RegisterError::UnknownOrganisation(HOUSING.into())),
            (
                NewOrganisation { main_unit: Some(ACME_BRANCH.into()), ..org(HOUSING, "H") },
                RegisterError::MainUnitIsSubUnit { main_unit: ACME_BRANCH.into(), its_main_unit: ACME.into() },
            ),
            (NewOrganisation { main_unit: Some(HOUSING.into()), ..org(HOUSING, "H") }, RegisterError::OwnMainUnit),
        ];
        for (input, expected) in cases {
            assert_eq!(add_organisation(&store, &input).await.unwrap_err(), expected);
        }
        for (input, field) in [
            (org("310000005", "Bad check digit"), "orgNumber"),
            (org("31000000", "Short"), "orgNumber"),
            (org(HOUSING, "  "), "name"),
            (NewOrganisation { unit_type: Some("as".into()), ..org(HOUSING, "H") }, "unitType"),
            (NewOrganisation { main_unit: Some("123".into()), ..org(HOUSING, "H") }, "mainUnit"),
            (NewOrganisation { party_id: Some(0), ..org(HOUSING, "H") }, "partyId"),
            (NewOrganisation { party_id: Some(3_000_000_000), ..org(HOUSING, "H") }, "partyId"),
            (NewOrganisation { party_uuid: Some("not-a-uuid".into()), ..org(HOUSING, "H") }, "partyUuid"),
            (NewOrganisation { party_uuid: Some(uuid::Uuid::nil().to_string()), ..org(HOUSING, "H") }, "partyUuid"),
        ] {
            match add_organisation(&store, &input).await.unwrap_err() {
                RegisterError::Invalid { field: f, .. } => assert_eq!(f, field, "{input:?}"),
                other => panic!("{input:?}: {other:?}"),
            }
        }
        assert_eq!(store.change_sequence().await.unwrap(), before, "refused requests change nothing");
        assert_eq!(store.party_count().await.unwrap(), 3);
    }
}

#[tokio::test]
async fn persons_need_valid_numbers_and_synthetic_ones_need_test_data() {
    for (store, _dir) in stores().await {
        let kari = add_person(&store, &person(PERSON, "Kari Nordmann"), SyntheticNumbers::Refuse).await.unwrap();
        assert_eq!(kari.person_identifier.as_deref(), Some(PERSON));
        assert_eq!(kari.party_type, "person");
        assert_eq!(
            add_person(&store, &person(PERSON, "Kari"), SyntheticNumbers::Refuse).await.unwrap_err(),
            RegisterError::PersonExists(PERSON.into())
        );
        let synthetic = synthetic_person();
        let refused = add_person(&store, &person(&synthetic, "Test"), SyntheticNumbers::Refuse).await.unwrap_err();
        assert!(matches!(&refused, RegisterError::Invalid { field: "personIdentifier", message } if message.contains("test data")), "{refused:?}");
        add_person(&store, &person(&synthetic, "Test Testesen"), SyntheticNumbers::Accept).await.unwrap();
        let bad = add_person(&store, &person("01010012357", "X"), SyntheticNumbers::Accept).await.unwrap_err();
        assert!(matches!(&bad, RegisterError::Invalid { message, .. } if message.contains("second check digit") && !message.contains("0101")), "{bad:?}");
        assert_eq!(store.party_count().await.unwrap(), 2);
    }
}

#[tokio::test]
async fn roles_must_be_er_roles_between_known_parties() {
    for (store, _dir) in stores().await {
        add_organisation(&store, &org(ACME, "Acme AS")).await.unwrap();
        add_organisation(&store, &org(LEDGER, "Ledger Regnskap AS")).await.unwrap();
        let kari = add_person(&store, &person(PERSON, "Kari Nordmann"), SyntheticNumbers::Refuse).await.unwrap();

        let dagl = add_role(&store, &role(ACME, "dagl", RoleHolder::Person(PERSON.into())), SyntheticNumbers::Refuse).await.unwrap();
        assert_eq!(dagl.role_code, "daglig-leder");
        assert_eq!(dagl.er_code, "DAGL");
        assert_eq!(dagl.role_urn, "urn:altinn:external-role:ccr:daglig-leder");
        assert_eq!(dagl.from.org_number.as_deref(), Some(ACME));
        assert_eq!(dagl.to.party_id, kari.party_id);
        let regn = add_role(&store, &role(ACME, "REGN", RoleHolder::Organisation(LEDGER.into())), SyntheticNumbers::Refuse).await.unwrap();
        assert_eq!(regn.to.org_number.as_deref(), Some(LEDGER));

        let before = store.change_sequence().await.unwrap();
        let cases = [
            (role(ACME, "DAGL", RoleHolder::Person(PERSON.into())), RegisterError::RoleExists { unit: ACME.into(), role: "DAGL".into(), holder: format!("person {PERSON}") }),
            (role(ACME, "nope", RoleHolder::Person(PERSON.into())), RegisterError::Role(fullmakt_domain::catalogue::RoleLookupError::Unknown("nope".into()))),
            (
                role(ACME, "rettighetshaver", RoleHolder::Person(PERSON.into())),
                RegisterError::Role(fullmakt_domain::catalogue::RoleLookupError::NotAnErRole("rettighetshaver".into())),
            ),
            (role(HOUSING, "DAGL", RoleHolder::Person(PERSON.into())), RegisterError::UnknownOrganisation(HOUSING.into())),
            (role(ACME, "LEDE", RoleHolder::Person(PERSON_2.into())), RegisterError::UnknownPerson(PERSON_2.into())),
            (role(ACME, "REVI", RoleHolder::Organisation(HOUSING.into())), RegisterError::UnknownOrganisation(HOUSING.into())),
        ];
        for (input, expected) in cases {
            assert_eq!(add_role(&store, &input, SyntheticNumbers::Refuse).await.unwrap_err(), expected, "{input:?}");
        }
        assert!(matches!(
            add_role(&store, &role("1", "DAGL", RoleHolder::Person(PERSON.into())), SyntheticNumbers::Refuse).await,
            Err(RegisterError::Invalid { field: "from", .. })
        ));
        assert_eq!(store.change_sequence().await.unwrap(), before);

        let acme = find_party(&store, &PartyLookup::OrgNumber(ACME.into())).await.unwrap();
        let held: Vec<String> = roles_of_subject_for_party(&store, kari.party_id, acme.party_id).await.unwrap().iter().map(|r| r.code.clone()).collect();
        assert_eq!(held, vec!["daglig-leder"]);
        assert_eq!(roles_in_unit(&store, acme.party_id).await.unwrap().len(), 2);
        let reverse = roles_held_by(&store, kari.party_id).await.unwrap();
        assert_eq!(reverse.len(), 1);
        assert_eq!(reverse[0].from.org_number.as_deref(), Some(ACME));
        assert_eq!(reverse[0].er_code, "DAGL");
    }
}

#[tokio::test]
async fn a_role_is_removed_in_any_of_its_names_and_a_missing_one_is_refused_without_a_write() {
    for (store, _dir) in stores().await {
        add_organisation(&store, &org(ACME, "Acme AS")).await.unwrap();
        add_organisation(&store, &org(LEDGER, "Ledger Regnskap AS")).await.unwrap();
        add_organisation(&store, &org(HOUSING, "Housing BRL")).await.unwrap();
        add_person(&store, &person(PERSON, "Kari Nordmann"), SyntheticNumbers::Refuse).await.unwrap();
        add_person(&store, &person(PERSON_2, "Ola Nordmann"), SyntheticNumbers::Refuse).await.unwrap();
        add_role(&store, &role(ACME, "DAGL", RoleHolder::Person(PERSON.into())), SyntheticNumbers::Refuse).await.unwrap();
        add_role(&store, &role(ACME, "REGN", RoleHolder::Organisation(LEDGER.into())), SyntheticNumbers::Refuse).await.unwrap();
        add_role(&store, &role(HOUSING, "REGN", RoleHolder::Organisation(LEDGER.into())), SyntheticNumbers::Refuse).await.unwrap();
        let acme = find_party(&store, &PartyLookup::OrgNumber(ACME.into())).await.unwrap();
        let ledger = find_party(&store, &PartyLookup::OrgNumber(LEDGER.into())).await.unwrap();

        // Refusals first: each names what is missing, and none writes (not even an index change).
        let before = store.change_sequence().await.unwrap();
        let not_held = |unit: &str, role: &str, holder: String| RegisterError::RoleNotFound { unit: unit.into(), role: role.into(), holder };
        let cases = [
            (role(ACME, "LEDE", RoleHolder::Person(PERSON.into())), not_held(ACME, "LEDE", format!("person {PERSON}"))),
            (role(ACME, "DAGL", RoleHolder::Person(PERSON_2.into())), not_held(ACME, "DAGL", format!("person {PERSON_2}"))),
            (role(ACME, "REVI", RoleHolder::Organisation(LEDGER.into())), not_held(ACME, "REVI", format!("organisation {LEDGER}"))),
            (role(LEDGER, "REGN", RoleHolder::Organisation(ACME.into())), not_held(LEDGER, "REGN", format!("organisation {ACME}"))),
            (role(ACME, "nope", RoleHolder::Person(PERSON.into())), RegisterError::Role(fullmakt_domain::catalogue::RoleLookupError::Unknown("nope".into()))),
            (
                role(ACME, "rettighetshaver", RoleHolder::Person(PERSON.into())),
                RegisterError::Role(fullmakt_domain::catalogue::RoleLookupError::NotAnErRole("rettighetshaver".into())),
            ),
            (role(ACME_BRANCH, "DAGL", RoleHolder::Person(PERSON.into())), RegisterError::UnknownOrganisation(ACME_BRANCH.into())),
            (role(ACME, "REGN", RoleHolder::Organisation(ACME_BRANCH.into())), RegisterError::UnknownOrganisation(ACME_BRANCH.into())),
        ];
        for (input, expected) in cases {
            assert_eq!(remove_role(&store, &input, SyntheticNumbers::Refuse).await.unwrap_err(), expected, "{input:?}");
        }
        assert!(matches!(
            remove_role(&store, &role(ACME, "DAGL", RoleHolder::Person("01010012357".into())), SyntheticNumbers::Refuse).await,
            Err(RegisterError::Invalid { field: "toPerson", .. })
        ));
        assert!(matches!(
            remove_role(&store, &role(ACME, "REGN", RoleHolder::Organisation("1".into())), SyntheticNumbers::Refuse).await,
            Err(RegisterError::Invalid { field: "toOrganization", .. })
        ));
        assert_eq!(store.change_sequence().await.unwrap(), before, "a refused removal writes nothing");

        // The catalogue's code and the URN name the same role as ER's code.
        let removed = remove_role(&store, &role(ACME, "regnskapsforer", RoleHolder::Organisation(LEDGER.into())), SyntheticNumbers::Refuse).await.unwrap();
        assert_eq!((removed.er_code.as_str(), removed.role_code.as_str()), ("REGN", "regnskapsforer"));
        assert_eq!((removed.from.party_id, removed.to.party_id), (acme.party_id, ledger.party_id));
        assert!(store.change_sequence().await.unwrap() > before, "the removal is a write");
        let removed = remove_role(&store, &role(ACME, "urn:altinn:external-role:ccr:daglig-leder", RoleHolder::Person(PERSON.into())), SyntheticNumbers::Refuse)
            .await
            .unwrap();
        assert_eq!(removed.to.person_identifier.as_deref(), Some(PERSON));
        assert!(roles_in_unit(&store, acme.party_id).await.unwrap().is_empty());
        // Only that unit's role went: the firm is still REGN for the other client.
        let held = roles_held_by(&store, ledger.party_id).await.unwrap();
        assert_eq!(held.iter().map(|r| (r.from.org_number.clone(), r.er_code.clone())).collect::<Vec<_>>(), vec![(Some(HOUSING.into()), "REGN".into())]);

        // Gone means gone: a second removal is refused, and the role can be added again.
        assert_eq!(
            remove_role(&store, &role(ACME, "REGN", RoleHolder::Organisation(LEDGER.into())), SyntheticNumbers::Refuse).await.unwrap_err(),
            not_held(ACME, "REGN", format!("organisation {LEDGER}"))
        );
        add_role(&store, &role(ACME, "REGN", RoleHolder::Organisation(LEDGER.into())), SyntheticNumbers::Refuse).await.unwrap();
    }
}

#[tokio::test]
async fn lookups_validate_their_key_and_say_when_nothing_is_found() {
    for (store, _dir) in stores().await {
        let acme = add_organisation(&store, &org(ACME, "Acme AS")).await.unwrap();
        let kari = add_person(&store, &person(PERSON, "Kari Nordmann"), SyntheticNumbers::Refuse).await.unwrap();
        for lookup in [
            PartyLookup::PartyId(acme.party_id),
            PartyLookup::PartyUuid(acme.party_uuid.to_uppercase()),
            PartyLookup::OrgNumber(ACME.into()),
        ] {
            assert_eq!(find_party(&store, &lookup).await.unwrap(), acme, "{lookup:?}");
        }
        assert_eq!(find_party(&store, &PartyLookup::PersonIdentifier(PERSON.into())).await.unwrap(), kari);
        assert!(matches!(find_party(&store, &PartyLookup::OrgNumber(LEDGER.into())).await, Err(RegisterError::PartyNotFound(_))));
        assert!(matches!(find_party(&store, &PartyLookup::PartyId(1)).await, Err(RegisterError::PartyNotFound(_))));
        let not_found = find_party(&store, &PartyLookup::PersonIdentifier(PERSON_2.into())).await.unwrap_err();
        assert!(!not_found.to_string().contains(PERSON_2), "person numbers stay out of messages: {not_found}");
        for bad in [PartyLookup::PartyId(-1), PartyLookup::PartyUuid("x".into()), PartyLookup::OrgNumber("123".into()), PartyLookup::PersonIdentifier("123".into())] {
            assert!(matches!(find_party(&store, &bad).await, Err(RegisterError::Invalid { .. })), "{bad:?}");
        }
    }
}

fn file(lines: &[String]) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    for l in lines {
        writeln!(f, "{l}").unwrap();
    }
    f
}

fn sample_lines() -> Vec<String> {
    vec![
        // The sub-unit comes before its main unit: the import does not mind the order.
        format!(r#"{{"type":"organization","orgNumber":"{ACME_BRANCH}","name":"Acme AS avd. Bergen","unitType":"BEDR","mainUnit":"{ACME}"}}"#),
        format!(r#"{{"type":"organization","orgNumber":"{ACME}","name":"Acme AS","unitType":"AS","partyId":51000000,"partyUuid":"b1e4611c-c366-478c-bb99-1171858ec5b4"}}"#),
        String::new(),
        format!(r#"{{"type":"organization","orgNumber":"{LEDGER}","name":"Ledger Regnskap AS","unitType":"AS"}}"#),
        format!(r#"{{"type":"organization","orgNumber":"{HOUSING}","name":"Borettslaget Fjordgløtt","unitType":"BRL"}}"#),
        format!(r#"{{"type":"person","personIdentifier":"{PERSON}","name":"Kari Nordmann"}}"#),
        format!(r#"{{"type":"role","from":"{ACME}","role":"DAGL","toPerson":"{PERSON}"}}"#),
        format!(r#"{{"type":"role","from":"{ACME}","role":"REGN","toOrganization":"{LEDGER}"}}"#),
        format!(r#"{{"type":"role","from":"{HOUSING}","role":"FFØR","toOrganization":"{LEDGER}"}}"#),
        format!(r#"{{"type":"role","from":"{HOUSING}","role":"styreleder","toPerson":"{PERSON}"}}"#),
    ]
}

#[tokio::test]
async fn an_import_creates_then_leaves_alone_then_updates() {
    for (store, _dir) in stores().await {
        let f = file(&sample_lines());
        let options = ImportOptions { rows_per_transaction: 3, ..Default::default() };
        let summary = import_file(&store, f.path(), options).await.unwrap();
        assert_eq!(summary.lines, 10);
        assert_eq!((summary.organizations.created, summary.persons.created, summary.roles.created), (4, 1, 4));
        assert!(summary.transactions >= 3, "{summary:?}");
        let acme = find_party(&store, &PartyLookup::OrgNumber(ACME.into())).await.unwrap();
        assert_eq!(acme.party_id, 51_000_000);
        assert_eq!(acme.party_uuid, "b1e4611c-c366-478c-bb99-1171858ec5b4");
        let branch = find_party(&store, &PartyLookup::OrgNumber(ACME_BRANCH.into())).await.unwrap();
        assert_eq!(branch.main_unit_party_id, Some(51_000_000));
        assert_eq!(branch.party_id, 51_000_001, "assigned ids follow the file, above the given ones");
        assert_eq!(roles_held_by(&store, find_party(&store, &PartyLookup::OrgNumber(LEDGER.into())).await.unwrap().party_id).await.unwrap().len(), 2);

        // The same file again: nothing changes, not even the change sequence.
        let sequence = store.change_sequence().await.unwrap();
        let again = import_file(&store, f.path(), options).await.unwrap();
        assert_eq!((again.organizations.unchanged, again.persons.unchanged, again.roles.unchanged), (4, 1, 4));
        assert_eq!((again.organizations.created + again.organizations.updated, again.roles.created), (0, 0));
        assert_eq!(again.transactions, 0);
        assert_eq!(store.change_sequence().await.unwrap(), sequence);

        // A changed name, a sub-unit made a main unit, one role more: upserted, nothing removed.
        let mut lines = sample_lines();
        lines[0] = format!(r#"{{"type":"organization","orgNumber":"{ACME_BRANCH}","name":"Acme Bergen AS","unitType":"AS"}}"#);
        lines.push(format!(r#"{{"type":"role","from":"{LEDGER}","role":"DAGL","toPerson":"{PERSON}"}}"#));
        let changed = import_file(&store, file(&lines).path(), ImportOptions::default()).await.unwrap();
        assert_eq!((changed.organizations.updated, changed.organizations.unchanged, changed.roles.created), (1, 3, 1));
        assert_eq!(changed.transactions, 1);
        let branch = find_party(&store, &PartyLookup::OrgNumber(ACME_BRANCH.into())).await.unwrap();
        assert_eq!((branch.name.as_str(), branch.main_unit_party_id, branch.party_id), ("Acme Bergen AS", None, 51_000_001));
        assert_eq!(store.er_role_count().await.unwrap(), 5);
    }
}

#[tokio::test]
async fn an_invalid_file_names_each_bad_line_and_imports_nothing() {
    for (store, _dir) in stores().await {
        add_organisation(&store, &NewOrganisation { party_id: Some(50_000_100), ..org(LEDGER, "Ledger Regnskap AS") }).await.unwrap();
        let sequence = store.change_sequence().await.unwrap();
        let lines = vec![
            format!(r#"{{"type":"organization","orgNumber":"{ACME}","name":"Acme AS"}}"#),
            r#"{"type":"organization","orgNumber":"310000005","name":"Bad"}"#.to_owned(),
            format!(r#"{{"type":"organization","orgNumber":"{ACME}","name":"Twice"}}"#),
            r#"{"type":"organisation","orgNumber":"310000051","name":"Wrong type"}"#.to_owned(),
            r#"{"type":"organization","orgNumber":"310000051","name":"Extra","colour":"red"}"#.to_owned(),
            format!(r#"{{"type":"role","from":"{ACME}","role":"rettighetshaver","toPerson":"{PERSON}"}}"#),
            format!(r#"{{"type":"role","from":"{ACME}","role":"DAGL","toPerson":"{PERSON}","toOrganization":"{LEDGER}"}}"#),
            format!(r#"{{"type":"person","personIdentifier":"{}","name":"Synthetic"}}"#, synthetic_person()),
            format!(r#"{{"type":"organization","orgNumber":"{HOUSING}","name":"H","partyId":50000100}}"#),
            format!(r#"{{"type":"organization","orgNumber":"{LEDGER}","name":"Ledger","partyId":50000101}}"#),
            "not json".to_owned(),
        ];
        let err = import_file(&store, file(&lines).path(), ImportOptions::default()).await.unwrap_err();
        let ImportError::Invalid { errors, truncated } = &err else { panic!("{err:?}") };
        assert!(!truncated);
        let lines_with_errors: Vec<u64> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines_with_errors, vec![2, 3, 4, 5, 6, 7, 8, 9, 10, 11], "{err}");
        let text = err.to_string();
        for expected in [
            "line 2: orgNumber: `310000005`: the organisation number's check digit is wrong",
            "line 3: organisation 310000019 is already on line 1",
            "line 4: not a valid register line: unknown variant `organisation`",
            "line 5: not a valid register line: unknown field `colour`",
            "line 6: role: `rettighetshaver` is not an Enhetsregisteret (ER) role",
            "line 7: a role line has exactly one of toPerson and toOrganization",
            "line 8: personIdentifier: the person number is a synthetic test number",
            "line 9: party id 50000100 is already used by another party",
            "line 10: organisation 310000035 has party id 50000100 in the register, not 50000101",
            "line 11: not a valid register line",
            "nothing was imported",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in\n{text}");
        }
        assert_eq!(store.change_sequence().await.unwrap(), sequence);
        assert_eq!(store.party_count().await.unwrap(), 1);

        // References are checked once every line is known.
        let lines = vec![
            format!(r#"{{"type":"organization","orgNumber":"{ACME}","name":"Acme","mainUnit":"{HOUSING}"}}"#),
            format!(r#"{{"type":"organization","orgNumber":"{ACME_BRANCH}","name":"Branch","mainUnit":"{ACME}"}}"#),
            format!(r#"{{"type":"role","from":"{HOUSING}","role":"DAGL","toPerson":"{PERSON}"}}"#),
        ];
        let err = import_file(&store, file(&lines).path(), ImportOptions::default()).await.unwrap_err().to_string();
        assert!(err.contains("line 1: the main unit 310000043 of 310000019 is neither in the register nor in the file"), "{err}");
        assert!(err.contains("line 2: 310000019 is the main unit of 310000027 and would itself be a sub-unit"), "{err}");
        assert!(err.contains("line 3: the unit 310000043 is neither in the register nor in the file"), "{err}");
        assert!(err.contains("line 3: the person (toPerson) is neither in the register nor in the file"), "{err}");
        assert_eq!(store.party_count().await.unwrap(), 1);

        // Synthetic numbers are fine in test-data mode.
        let lines = vec![format!(r#"{{"type":"person","personIdentifier":"{}","name":"Synthetic"}}"#, synthetic_person())];
        let options = ImportOptions { synthetic: SyntheticNumbers::Accept, ..Default::default() };
        assert_eq!(import_file(&store, file(&lines).path(), options).await.unwrap().persons.created, 1);
        let missing = import_file(&store, std::path::Path::new("/no/such/file.jsonl"), options).await.unwrap_err();
        assert!(matches!(missing, ImportError::Read { .. }), "{missing:?}");
    }
}
