//! Grants, the policy information point and the decision point: each inheritance path with its
//! negative (service level, no HTTP), then the PDP over HTTP for system users — Permit by
//! package and by resource right, NotApplicable without a grant or for an ungranted action,
//! Indeterminate for a bad subject, multi-requests — and revocations seen by the very next
//! decision on this node and on a second one.

use fullmakt_domain::catalogue::Catalogue;
use fullmakt_service::grants::{self, Recipient};
use fullmakt_service::pip::{self, Reason, Subject, SubjectGrants};
use fullmakt_service::register::{self, NewOrganisation, NewPerson, NewRole, RoleHolder};
use fullmakt_store::{PartyKey, PartyRow, Store};
use reqwest::Method;
use serde_json::{json, Value};

use crate::harness::*;
use crate::resource_registry::resource;

const AUTHORIZE: &str = "altinn:authorization/authorize";
const WRITE: &str = "altinn:resourceregistry/resource.write";

fn catalogue() -> &'static Catalogue {
    Catalogue::embedded()
}

/// A valid (non-synthetic) person number starting with `first9` (DDMMYYIII).
pub(crate) fn person_number(first9: &str) -> String {
    let d: Vec<u32> = first9.bytes().map(|b| u32::from(b - b'0')).collect();
    let k1 = |w: &[u32], d: &[u32]| match 11 - w.iter().zip(d).map(|(a, b)| a * b).sum::<u32>() % 11 {
        11 => Some(0),
        10 => None,
        c => Some(c),
    };
    for last in 0..1000u32 {
        let mut digits = d[..6].to_vec();
        digits.extend([last / 100, last / 10 % 10, last % 10]);
        let Some(c1) = k1(&[3, 7, 6, 1, 8, 9, 4, 5, 2], &digits) else { continue };
        digits.push(c1);
        let Some(c2) = k1(&[5, 4, 3, 2, 7, 6, 5, 4, 3, 2], &digits) else { continue };
        digits.push(c2);
        return digits.iter().map(|x| char::from(b'0' + *x as u8)).collect();
    }
    unreachable!("some individual number gives valid check digits")
}

async fn org(store: &Store, orgno: &str, name: &str, unit_type: &str, main_unit: Option<&str>) -> PartyRow {
    let input = NewOrganisation {
        org_number: orgno.into(),
        name: name.into(),
        unit_type: Some(unit_type.into()),
        main_unit: main_unit.map(str::to_owned),
        ..Default::default()
    };
    register::add_organisation(store, &input).await.unwrap();
    store.find_party(PartyKey::OrgNumber(orgno)).await.unwrap().unwrap()
}

async fn person(store: &Store, pid: &str, name: &str) -> PartyRow {
    let input = NewPerson { person_identifier: pid.into(), name: name.into(), ..Default::default() };
    register::add_person(store, &input, fullmakt_domain::SyntheticNumbers::Refuse).await.unwrap();
    store.find_party(PartyKey::PersonIdentifier(pid)).await.unwrap().unwrap()
}

async fn role(store: &Store, unit: &str, code: &str, holder: RoleHolder) {
    let input = NewRole { unit: unit.into(), role: code.into(), holder };
    register::add_role(store, &input, fullmakt_domain::SyntheticNumbers::Refuse).await.unwrap();
}

async fn grants_of(store: &Store, subject: Subject, party: &PartyRow) -> SubjectGrants {
    pip::grants_for(store, catalogue(), &subject, party).await.unwrap()
}

fn codes(g: &SubjectGrants) -> Vec<String> {
    g.packages.keys().map(|i| catalogue().package(*i).code.clone()).collect()
}

fn holds(g: &SubjectGrants, code: &str) -> bool {
    codes(g).iter().any(|c| c == code)
}

const CUSTOMER: &str = "310702641";
const BRANCH: &str = "311654306";
const ACCOUNTANT: &str = "314240979";
const CLIENT: &str = "991825827";

#[tokio::test]
async fn the_pip_follows_every_inheritance_path_and_only_those() {
    for db in databases().await {
        eprintln!("store: {}", db.name);
        let (store, _ring) = db.store_args().open().await.unwrap();
        let customer = org(&store, CUSTOMER, "Kunde AS", "AS", None).await;
        let branch = org(&store, BRANCH, "Kunde AS avd. Bergen", "BEDR", Some(CUSTOMER)).await;
        let accountant = org(&store, ACCOUNTANT, "Regnskap AS", "AS", None).await;
        let client = org(&store, CLIENT, "Klient AS", "AS", None).await;
        let manager = person(&store, &person_number("010180123"), "Kari Leder").await;
        let firm_manager = person(&store, &person_number("020280123"), "Ola Regnskap").await;
        let stranger = person(&store, &person_number("030380123"), "Per Fremmed").await;
        role(&store, CUSTOMER, "DAGL", RoleHolder::Person(manager.person_identifier.clone().unwrap())).await;
        role(&store, ACCOUNTANT, "DAGL", RoleHolder::Person(firm_manager.person_identifier.clone().unwrap())).await;
        role(&store, CLIENT, "REGN", RoleHolder::Organisation(ACCOUNTANT.into())).await;
        let system_user = uuid::Uuid::new_v4().to_string();
        let su = || Subject::SystemUser(system_user.clone());

        // Direct assignment, and its negative: nothing for another party.
        let out = grants::grant_package(&store, catalogue(), &customer, &Recipient::SystemUser(system_user.clone()), "urn:altinn:accesspackage:ansettelsesforhold")
            .await
            .unwrap();
        assert!(out.changed);
        let g = grants_of(&store, su(), &customer).await;
        assert_eq!(codes(&g), ["ansettelsesforhold"]);
        assert_eq!(g.packages.values().next().unwrap()[0].reason, Reason::Assignment);
        assert!(grants_of(&store, su(), &client).await.is_empty());

        // Main unit → sub-unit, and not the other way round.
        let g = grants_of(&store, su(), &branch).await;
        assert!(holds(&g, "ansettelsesforhold"));
        assert!(g.packages.values().next().unwrap()[0].main_unit);
        grants::grant_package(&store, catalogue(), &branch, &Recipient::SystemUser(system_user.clone()), "skatt-naering").await.unwrap();
        assert!(!holds(&grants_of(&store, su(), &customer).await, "skatt-naering"));

        // ER role: the manager (DAGL) holds the role's packages; a stranger holds nothing.
        let g = grants_of(&store, Subject::Party(manager.clone()), &customer).await;
        assert!(g.roles.contains_key("daglig-leder"), "{:?}", g.roles.keys());
        assert!(holds(&g, "tilgangsstyrer") && holds(&g, "lonn"));
        assert_eq!(g.packages.values().next().unwrap()[0].reason, Reason::Role);
        assert!(grants_of(&store, Subject::Party(stranger.clone()), &customer).await.is_empty());
        // …and through the main unit, for the branch.
        assert!(holds(&grants_of(&store, Subject::Party(manager.clone()), &branch).await, "lonn"));

        // Key role: the accounting firm's manager acts with the firm's REGN packages for its client.
        let g = grants_of(&store, Subject::Party(firm_manager.clone()), &client).await;
        assert!(holds(&g, "regnskapsforer-lonn"), "{:?}", codes(&g));
        let path = &g.packages.values().next().unwrap()[0];
        assert_eq!(path.reason, Reason::KeyRole);
        assert_eq!(path.via.as_ref().unwrap().organization_number.as_deref(), Some(ACCOUNTANT));
        assert!(!holds(&grants_of(&store, Subject::Party(manager.clone()), &client).await, "regnskapsforer-lonn"));

        // Client delegation: client → (REGN) → accountant → agent system user.
        let agent = uuid::Uuid::new_v4().to_string();
        let refused = grants::delegate_client_packages(&store, catalogue(), &accountant, &client, "REGN", &agent, &["urn:altinn:accesspackage:ansvarlig-revisor".into()]).await;
        assert!(refused.is_err(), "REGN does not give revisor packages");
        grants::delegate_client_packages(&store, catalogue(), &accountant, &client, "REGN", &agent, &["regnskapsforer-lonn".into()]).await.unwrap();
        let g = grants_of(&store, Subject::SystemUser(agent.clone()), &client).await;
        assert_eq!(codes(&g), ["regnskapsforer-lonn"]);
        assert_eq!(g.packages.values().next().unwrap()[0].reason, Reason::ClientDelegation);
        // Not for another party, and not for the facilitator itself.
        assert!(grants_of(&store, Subject::SystemUser(agent.clone()), &customer).await.is_empty());

        // Breaking the chain at the ER role revokes the delegation at once.
        let mut tx = store.begin_write().await.unwrap();
        tx.delete_er_role(&fullmakt_store::ErRoleRow { from_party_id: client.party_id, role_code: "regnskapsforer".into(), to_party_id: accountant.party_id })
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert!(grants_of(&store, Subject::SystemUser(agent.clone()), &client).await.is_empty());
        assert!(!holds(&grants_of(&store, Subject::Party(firm_manager.clone()), &client).await, "regnskapsforer-lonn"));

        // Revoking the direct package removes it from the next answer.
        grants::revoke_package(&store, catalogue(), &customer, &Recipient::SystemUser(system_user.clone()), "ansettelsesforhold").await.unwrap();
        assert!(!holds(&grants_of(&store, su(), &customer).await, "ansettelsesforhold"));
        store.close().await;
    }
}

#[tokio::test]
async fn the_agent_assignment_is_part_of_the_client_delegation_chain() {
    for db in databases().await {
        eprintln!("store: {}", db.name);
        let (store, _ring) = db.store_args().open().await.unwrap();
        let accountant = org(&store, ACCOUNTANT, "Regnskap AS", "AS", None).await;
        let client = org(&store, CLIENT, "Klient AS", "AS", None).await;
        role(&store, CLIENT, "REGN", RoleHolder::Organisation(ACCOUNTANT.into())).await;
        let agent = uuid::Uuid::new_v4().to_string();
        grants::delegate_client_packages(&store, catalogue(), &accountant, &client, "regnskapsforer", &agent, &["regnskapsforer-lonn".into()]).await.unwrap();
        assert!(holds(&grants_of(&store, Subject::SystemUser(agent.clone()), &client).await, "regnskapsforer-lonn"));
        let mut tx = store.begin_write().await.unwrap();
        assert_eq!(tx.delete_assignments_to(&agent).await.unwrap(), 1);
        tx.commit().await.unwrap();
        assert!(grants_of(&store, Subject::SystemUser(agent.clone()), &client).await.is_empty());
        store.close().await;
    }
}

/// A decision request for a system user on `resource` for the party named by `party`.
fn su_request(system_user: &str, action: &str, resource_id: &str, party: (&str, &str)) -> Value {
    json!({"Request": {
        "AccessSubject": [{"Attribute": [{"AttributeId": "urn:altinn:systemuser:uuid", "Value": system_user}]}],
        "Action": [{"Attribute": [{"AttributeId": "urn:oasis:names:tc:xacml:1.0:action:action-id", "Value": action,
            "DataType": "http://www.w3.org/2001/XMLSchema#string"}]}],
        "Resource": [{"Attribute": [{"AttributeId": "urn:altinn:resource", "Value": resource_id},
            {"AttributeId": party.0, "Value": party.1}]}]
    }})
}

async fn authorize(server: &TestServer, token: &str, request: &Value) -> Value {
    let (status, body) = call(server, Method::POST, "/authorization/api/v1/authorize", Some(token), Some(&request.to_string())).await;
    assert_eq!(status, 200, "{body}");
    body
}

fn decisions(response: &Value) -> Vec<&str> {
    response["response"].as_array().unwrap().iter().map(|r| r["decision"].as_str().unwrap()).collect()
}

/// A registry resource owned by OWNER_ORG with an Altinn-shaped policy.
async fn publish(server: &TestServer, id: &str, subjects: &[(&str, &str)], actions: &[&str]) {
    let token = api_token(server, OWNER_ORG, &[WRITE]).await;
    let (status, body) = call(server, Method::POST, "/resourceregistry/api/v1/resource", Some(&token), Some(&resource(id).to_string())).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = upload_policy(server, id, Some(&token), "policyFile", &altinn_policy(id, subjects, actions)).await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test]
async fn system_users_are_permitted_by_package_and_by_right_and_nothing_else() {
    on_every_store!(|server, _vendor| {
        let store = &server.store;
        let customer = org(store, CUSTOMER, "Kunde AS", "AS", None).await;
        publish(&server, "digdir-ansettelse", &[("urn:altinn:accesspackage", "ansettelsesforhold")], &["read", "write"]).await;
        publish(&server, "digdir-dagl", &[("urn:altinn:rolecode", "DAGL")], &["read", "write"]).await;
        let token = api_token(&server, VENDOR_ORG, &[AUTHORIZE]).await;
        let granted = uuid::Uuid::new_v4().to_string();
        let other = uuid::Uuid::new_v4().to_string();
        grants::grant_package(store, catalogue(), &customer, &Recipient::SystemUser(granted.clone()), "ansettelsesforhold").await.unwrap();
        grants::grant_right(store, &customer, &Recipient::SystemUser(granted.clone()), "digdir-dagl", "read").await.unwrap();
        let by_orgno = ("urn:altinn:organization:identifier-no", CUSTOMER);

        // Permit by package, with the policy's obligation and no echo of unmarked attributes.
        let r = authorize(&server, &token, &su_request(&granted, "read", "digdir-ansettelse", by_orgno)).await;
        assert_eq!(decisions(&r), ["Permit"], "{r}");
        assert_eq!(r["response"][0]["status"]["statusCode"]["value"], "urn:oasis:names:tc:xacml:1.0:status:ok");
        assert_eq!(r["response"][0]["obligations"][0]["attributeAssignment"][0]["value"], "2");
        assert_eq!(r["response"][0]["obligations"][0]["attributeAssignment"][0]["category"], "urn:altinn:minimum-authenticationlevel");
        assert!(r["response"][0].as_object().unwrap().contains_key("associateAdvice"));
        // The keys come in the reference's order (pdp.md §1.3), nulls included.
        let text = server
            .http
            .post(format!("{}/authorization/api/v1/authorize", server.base))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(su_request(&granted, "read", "digdir-ansettelse", by_orgno).to_string())
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let keys = ["{\"response\":[{\"decision\":\"Permit\"", "\"status\":{\"statusMessage\":null,\"statusDetails\":null,\"statusCode\":{", "\"obligations\":[", "\"associateAdvice\":null", "\"category\":", "\"policyIdentifierList\":null}]}"];
        assert!(text.starts_with(keys[0]), "{text}");
        let mut from = 0;
        for k in keys {
            from += text[from..].find(k).unwrap_or_else(|| panic!("{k} is missing from or out of the reference's order in {text}")) + k.len();
        }
        // An action the rule does not give, and a system user without the package.
        assert_eq!(decisions(&authorize(&server, &token, &su_request(&granted, "sign", "digdir-ansettelse", by_orgno)).await), ["NotApplicable"]);
        assert_eq!(decisions(&authorize(&server, &token, &su_request(&other, "read", "digdir-ansettelse", by_orgno)).await), ["NotApplicable"]);
        // System users never get roles; the single right permits read only.
        let r = authorize(&server, &token, &su_request(&granted, "read", "digdir-dagl", by_orgno)).await;
        assert_eq!(decisions(&r), ["Permit"], "{r}");
        assert_eq!(r["response"][0]["obligations"][0]["attributeAssignment"][0]["value"], "2", "the policy's obligation applies: {r}");
        assert_eq!(decisions(&authorize(&server, &token, &su_request(&granted, "write", "digdir-dagl", by_orgno)).await), ["NotApplicable"]);

        // The party three ways in one multi-request.
        let multi = json!({"Request": {
            "AccessSubject": [{"Id": "s1", "Attribute": [{"AttributeId": "urn:altinn:systemuser:uuid", "Value": granted}]}],
            "Action": [{"Id": "a1", "Attribute": [{"AttributeId": "urn:oasis:names:tc:xacml:1.0:action:action-id", "Value": "read"}]}],
            "Resource": [
                {"Id": "r1", "Attribute": [{"AttributeId": "urn:altinn:resource", "Value": "digdir-ansettelse"}, {"AttributeId": "urn:altinn:party:uuid", "Value": customer.party_uuid}]},
                {"Id": "r2", "Attribute": [{"AttributeId": "urn:altinn:resource", "Value": "digdir-ansettelse"}, {"AttributeId": "urn:altinn:partyid", "Value": customer.party_id.to_string()}]},
                {"Id": "r3", "Attribute": [{"AttributeId": "urn:altinn:resource", "Value": "digdir-ansettelse"}, {"AttributeId": "urn:altinn:organization:identifier-no", "Value": CUSTOMER}]}
            ],
            "MultiRequests": {"RequestReference": [
                {"ReferenceId": ["s1", "a1", "r1"]}, {"ReferenceId": ["s1", "a1", "r2"]}, {"ReferenceId": ["s1", "a1", "r3"]}
            ]}
        }});
        assert_eq!(decisions(&authorize(&server, &token, &multi).await), ["Permit", "Permit", "Permit"]);

        // The explanation names the rule and the grant path.
        let (status, r) = call(&server, Method::POST, "/authorization/api/v1/authorize/explain", Some(&token),
            Some(&su_request(&granted, "read", "digdir-ansettelse", by_orgno).to_string())).await;
        assert_eq!(status, 200);
        let e = &r["response"][0]["explanation"];
        assert_eq!(e["decidedBy"], "policy", "{r}");
        assert_eq!(e["ruleId"], "urn:altinn:resource:digdir-ansettelse:rule1");
        assert_eq!(e["grants"][0]["value"], "ansettelsesforhold");
        assert_eq!(e["grants"][0]["paths"][0]["reason"], "Assignment");
        assert_eq!(e["grants"][0]["paths"][0]["from"]["organizationNumber"], CUSTOMER);
    });
}

/// A request repeated with nothing written in between is decided from the warm policy cache and
/// the index alone; it must get the answer the first one got through the general path.
#[tokio::test]
async fn a_repeated_request_gets_the_same_answer() {
    on_every_store!(|server, _vendor| {
        let store = &server.store;
        let customer = org(store, CUSTOMER, "Kunde AS", "AS", None).await;
        publish(&server, "digdir-ansettelse", &[("urn:altinn:accesspackage", "ansettelsesforhold")], &["read"]).await;
        let token = api_token(&server, VENDOR_ORG, &[AUTHORIZE]).await;
        let su = uuid::Uuid::new_v4().to_string();
        grants::grant_package(store, catalogue(), &customer, &Recipient::SystemUser(su.clone()), "ansettelsesforhold").await.unwrap();
        // A single right for an action no rule gives: it decides only when the policy does not.
        grants::grant_right(store, &customer, &Recipient::SystemUser(su.clone()), "digdir-ansettelse", "write").await.unwrap();
        // A sub-unit holds what its main unit gave.
        org(store, BRANCH, "Kunde AS avd. Bergen", "BEDR", Some(CUSTOMER)).await;
        for party in [CUSTOMER, BRANCH] {
            let by_orgno = ("urn:altinn:organization:identifier-no", party);
            for (action, expected) in [("read", "Permit"), ("write", "Permit"), ("sign", "NotApplicable")] {
                for attempt in 1..=3 {
                    let r = authorize(&server, &token, &su_request(&su, action, "digdir-ansettelse", by_orgno)).await;
                    assert_eq!(decisions(&r), [expected], "{party}, {action}, attempt {attempt}: {r}");
                }
            }
        }
    });
}

#[tokio::test]
async fn an_app_is_decided_whether_named_by_its_resource_id_or_by_org_and_app() {
    on_every_store!(|server, _vendor| {
        let store = &server.store;
        let customer = org(store, CUSTOMER, "Kunde AS", "AS", None).await;
        const APP_ID: &str = "app_digdir_regnskap";
        let owner = api_token(&server, OWNER_ORG, &[WRITE]).await;
        let mut app = resource(APP_ID);
        app["resourceType"] = json!("AltinnApp");
        app["resourceReferences"] = json!([{"referenceSource": "Altinn3", "reference": "digdir/regnskap", "referenceType": "ApplicationId"}]);
        let (status, body) = call(&server, Method::POST, "/resourceregistry/api/v1/resource", Some(&owner), Some(&app.to_string())).await;
        assert_eq!(status, 201, "{body}");
        // An app policy as Altinn Studio writes it: the rule names org and app, not the id.
        let designator = |id: &str| format!(r#"<xacml:AttributeDesignator AttributeId="{id}" Category="urn:oasis:names:tc:xacml:3.0:attribute-category:resource" DataType="http://www.w3.org/2001/XMLSchema#string" MustBePresent="false"/>"#);
        let matching = |value: &str, id: &str| format!(r#"<xacml:Match MatchId="urn:oasis:names:tc:xacml:1.0:function:string-equal"><xacml:AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">{value}</xacml:AttributeValue>{}</xacml:Match>"#, designator(id));
        let policy = fullmakt_service::resource_registry::altinn_policy(APP_ID, &[("urn:altinn:accesspackage", "ansettelsesforhold")], &["read"])
            .replace(&matching(APP_ID, "urn:altinn:resource"), &(matching("digdir", "urn:altinn:org") + &matching("regnskap", "urn:altinn:app")));
        assert!(!policy.contains(r#"AttributeId="urn:altinn:resource""#), "{policy}");
        let (status, body) = upload_policy(&server, APP_ID, Some(&owner), "policyFile", &policy).await;
        assert_eq!(status, 201, "{body}");

        let token = api_token(&server, VENDOR_ORG, &[AUTHORIZE]).await;
        let su = uuid::Uuid::new_v4().to_string();
        grants::grant_package(store, catalogue(), &customer, &Recipient::SystemUser(su.clone()), "ansettelsesforhold").await.unwrap();
        let by_orgno = ("urn:altinn:organization:identifier-no", CUSTOMER);
        // Named by its resource id: the PDP gives the request org and app.
        assert_eq!(decisions(&authorize(&server, &token, &su_request(&su, "read", APP_ID, by_orgno)).await), ["Permit"]);
        assert_eq!(decisions(&authorize(&server, &token, &su_request(&su, "write", APP_ID, by_orgno)).await), ["NotApplicable"]);
        // Named by org and app: the PDP finds the resource (and its policy) by `app_{org}_{app}`.
        let by_org_and_app = |org: Option<&str>, app: &str| {
            let mut r = su_request(&su, "read", APP_ID, by_orgno);
            let mut attributes = vec![json!({"AttributeId": "urn:altinn:app", "Value": app}), json!({"AttributeId": by_orgno.0, "Value": by_orgno.1})];
            if let Some(org) = org {
                attributes.push(json!({"AttributeId": "urn:altinn:org", "Value": org}));
            }
            r["Request"]["Resource"][0]["Attribute"] = Value::Array(attributes);
            r
        };
        assert_eq!(decisions(&authorize(&server, &token, &by_org_and_app(Some("digdir"), "regnskap")).await), ["Permit"]);
        // Another app of the same org has no resource; an app without its org names nothing.
        for (request, message) in [
            (by_org_and_app(Some("digdir"), "lonn"), "no resource app_digdir_lonn"),
            (by_org_and_app(None, "regnskap"), "names no resource"),
        ] {
            let r = authorize(&server, &token, &request).await;
            assert_eq!(decisions(&r), ["Indeterminate"], "{r}");
            assert!(r["response"][0]["status"]["statusMessage"].as_str().unwrap_or_default().contains(message), "{r}");
        }
    });
}

#[tokio::test]
async fn a_bad_subject_or_party_is_indeterminate_with_the_right_status() {
    on_every_store!(|server, _vendor| {
        org(&server.store, CUSTOMER, "Kunde AS", "AS", None).await;
        publish(&server, "digdir-ansettelse", &[("urn:altinn:accesspackage", "ansettelsesforhold")], &["read"]).await;
        let token = api_token(&server, VENDOR_ORG, &[AUTHORIZE]).await;
        let su = uuid::Uuid::new_v4().to_string();
        let by_orgno = ("urn:altinn:organization:identifier-no", CUSTOMER);
        let indeterminate = |r: &Value, status: &str| {
            assert_eq!(decisions(r), ["Indeterminate"], "{r}");
            assert_eq!(r["response"][0]["status"]["statusCode"]["value"], format!("urn:oasis:names:tc:xacml:1.0:status:{status}"), "{r}");
        };

        let mut two_subjects = su_request(&su, "read", "digdir-ansettelse", by_orgno);
        two_subjects["Request"]["AccessSubject"][0]["Attribute"]
            .as_array_mut()
            .unwrap()
            .push(json!({"AttributeId": "urn:altinn:organization:identifier-no", "Value": CUSTOMER}));
        indeterminate(&authorize(&server, &token, &two_subjects).await, "processing-error");
        indeterminate(&authorize(&server, &token, &su_request("not-a-uuid", "read", "digdir-ansettelse", by_orgno)).await, "processing-error");
        indeterminate(&authorize(&server, &token, &su_request(&su, "read", "digdir-ansettelse", ("urn:altinn:party:uuid", "nope"))).await, "processing-error");
        indeterminate(&authorize(&server, &token, &su_request(&su, "read", "digdir-ansettelse", ("urn:altinn:organization:identifier-no", ACCOUNTANT))).await, "processing-error");
        indeterminate(&authorize(&server, &token, &su_request(&su, "read", "digdir-none", by_orgno)).await, "processing-error");
        let mut bad_type = su_request(&su, "read", "digdir-ansettelse", by_orgno);
        bad_type["Request"]["Action"][0]["Attribute"][0]["DataType"] = "http://www.w3.org/2001/XMLSchema#date".into();
        indeterminate(&authorize(&server, &token, &bad_type).await, "processing-error");
        // The internal route reports every failure as syntax-error.
        let (status, r) = call(&server, Method::POST, "/authorization/api/v1/decision", None, Some(&two_subjects.to_string())).await;
        assert_eq!(status, 200);
        indeterminate(&r, "syntax-error");
        // A multi-request with one bad part is one Indeterminate.
        let mut multi = su_request(&su, "read", "digdir-ansettelse", by_orgno);
        multi["Request"]["AccessSubject"][0]["Id"] = "s1".into();
        multi["Request"]["Action"][0]["Id"] = "a1".into();
        multi["Request"]["Resource"][0]["Id"] = "r1".into();
        multi["Request"]["Resource"].as_array_mut().unwrap().push(json!({"Id": "r2", "Attribute": [
            {"AttributeId": "urn:altinn:resource", "Value": "digdir-ansettelse"}, {"AttributeId": "urn:altinn:partyid", "Value": "x"}]}));
        multi["Request"]["MultiRequests"] = json!({"RequestReference": [{"ReferenceId": ["s1", "a1", "r1"]}, {"ReferenceId": ["s1", "a1", "r2"]}]});
        indeterminate(&authorize(&server, &token, &multi).await, "processing-error");
    });
}

#[tokio::test]
async fn the_authorize_route_refuses_the_wrong_caller_and_malformed_bodies() {
    on_every_store!(|server, _vendor| {
        let request = su_request(&uuid::Uuid::new_v4().to_string(), "read", "x", ("urn:altinn:partyid", "1")).to_string();
        let unscoped = api_token(&server, VENDOR_ORG, &["owner:api.read"]).await;
        let token = api_token(&server, VENDOR_ORG, &[AUTHORIZE]).await;
        for path in ["/authorization/api/v1/authorize", "/authorization/api/v1/authorize/explain"] {
            assert_problem(&call(&server, Method::POST, path, None, Some(&request)).await, 401, "bearer token");
            assert_problem(&call(&server, Method::POST, path, Some(&unscoped), Some(&request)).await, 403, AUTHORIZE);
            assert_problem(&call(&server, Method::POST, path, Some(&token), Some("{\"Request\":")).await, 400, "not JSON");
        }
        let (status, body) = call(&server, Method::POST, "/authorization/api/v1/decision", None, Some("{")).await;
        assert_eq!(status, 400, "{body}");
        // A verified token is remembered; a copy with another signature is not taken for it.
        assert_eq!(call(&server, Method::POST, "/authorization/api/v1/authorize", Some(&token), Some(&request)).await.0, 200);
        assert_eq!(call(&server, Method::POST, "/authorization/api/v1/authorize", Some(&token), Some(&request)).await.0, 200);
        let (head, signature) = token.rsplit_once('.').unwrap();
        let mut forged: Vec<u8> = signature.bytes().collect();
        forged[10] = if forged[10] == b'A' { b'B' } else { b'A' };
        let forged = format!("{head}.{}", String::from_utf8(forged).unwrap());
        assert_problem(&call(&server, Method::POST, "/authorization/api/v1/authorize", Some(&forged), Some(&request)).await, 401, "signature");
    });
}

#[tokio::test]
async fn the_decision_route_answers_xml_in_xml() {
    on_every_store!(|server, _vendor| {
        let customer = org(&server.store, CUSTOMER, "Kunde AS", "AS", None).await;
        publish(&server, "digdir-ansettelse", &[("urn:altinn:accesspackage", "ansettelsesforhold")], &["read"]).await;
        let su = uuid::Uuid::new_v4().to_string();
        grants::grant_package(&server.store, catalogue(), &customer, &Recipient::SystemUser(su.clone()), "ansettelsesforhold").await.unwrap();
        let xml = format!(
            r#"<Request xmlns="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17" ReturnPolicyIdList="false" CombinedDecision="false">
  <Attributes Category="urn:oasis:names:tc:xacml:1.0:subject-category:access-subject">
    <Attribute IncludeInResult="false" AttributeId="urn:altinn:systemuser:uuid"><AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">{su}</AttributeValue></Attribute>
  </Attributes>
  <Attributes Category="urn:oasis:names:tc:xacml:3.0:attribute-category:action">
    <Attribute IncludeInResult="false" AttributeId="urn:oasis:names:tc:xacml:1.0:action:action-id"><AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">read</AttributeValue></Attribute>
  </Attributes>
  <Attributes Category="urn:oasis:names:tc:xacml:3.0:attribute-category:resource">
    <Attribute IncludeInResult="true" AttributeId="urn:altinn:resource"><AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">digdir-ansettelse</AttributeValue></Attribute>
    <Attribute IncludeInResult="false" AttributeId="urn:altinn:partyid"><AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">{}</AttributeValue></Attribute>
  </Attributes>
</Request>"#,
            customer.party_id
        );
        let res = server
            .http
            .post(format!("{}/authorization/api/v1/decision", server.base))
            .header("content-type", "application/xml")
            .body(xml)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let body = res.text().await.unwrap();
        assert!(body.contains("<Decision>Permit</Decision>"), "{body}");
        assert!(body.contains("digdir-ansettelse"), "the IncludeInResult attribute is echoed: {body}");
        assert!(body.contains("urn:altinn:minimum-authenticationlevel"), "{body}");
    });
}

#[tokio::test]
async fn a_revocation_decides_the_very_next_request_on_this_node_and_another() {
    on_every_store!(|db, server, _vendor| {
        let customer = org(&server.store, CUSTOMER, "Kunde AS", "AS", None).await;
        publish(&server, "digdir-ansettelse", &[("urn:altinn:accesspackage", "ansettelsesforhold")], &["read"]).await;
        let second = TestServer::start_with_public_url(&db, Some(&server.public_url)).await;
        let token = api_token(&server, VENDOR_ORG, &[AUTHORIZE]).await;
        let su = uuid::Uuid::new_v4().to_string();
        let request = su_request(&su, "read", "digdir-ansettelse", ("urn:altinn:organization:identifier-no", CUSTOMER));
        let recipient = Recipient::SystemUser(su.clone());
        for _ in 0..2 {
            grants::grant_package(&server.store, catalogue(), &customer, &recipient, "ansettelsesforhold").await.unwrap();
            assert_eq!(decisions(&authorize(&server, &token, &request).await), ["Permit"]);
            assert_eq!(decisions(&authorize(&second, &token, &request).await), ["Permit"]);
            grants::revoke_package(&server.store, catalogue(), &customer, &recipient, "ansettelsesforhold").await.unwrap();
            assert_eq!(decisions(&authorize(&server, &token, &request).await), ["NotApplicable"]);
            assert_eq!(decisions(&authorize(&second, &token, &request).await), ["NotApplicable"]);
        }
        // A new policy version decides at once too.
        grants::grant_package(&server.store, catalogue(), &customer, &recipient, "ansettelsesforhold").await.unwrap();
        let owner = api_token(&server, OWNER_ORG, &[WRITE]).await;
        let narrowed = altinn_policy("digdir-ansettelse", &[("urn:altinn:accesspackage", "lonn")], &["read"]);
        assert_eq!(upload_policy(&server, "digdir-ansettelse", Some(&owner), "policyFile", &narrowed).await.0, 201);
        assert_eq!(decisions(&authorize(&second, &token, &request).await), ["NotApplicable"]);
        second.stop().await;
    });
}


/// A server that has just decided the same request, with its policy cached and its index
/// current, must still see a grant that another process committed at the very next request.
#[tokio::test]
async fn a_grant_from_another_process_decides_the_next_request() {
    on_every_store!(|db, server, _vendor| {
        let store = &server.store;
        org(store, CUSTOMER, "Kunde AS", "AS", None).await;
        publish(&server, "digdir-ansettelse", &[("urn:altinn:accesspackage", "ansettelsesforhold")], &["read"]).await;
        let token = api_token(&server, VENDOR_ORG, &[AUTHORIZE]).await;
        let su = uuid::Uuid::new_v4().to_string();
        let request = su_request(&su, "read", "digdir-ansettelse", ("urn:altinn:organization:identifier-no", CUSTOMER));
        for _ in 0..3 {
            assert_eq!(decisions(&authorize(&server, &token, &request).await), ["NotApplicable"]);
        }
        let (ok, _, err) = admin_cli(&db, &["grant", "package", "--from", CUSTOMER, "--to", &su, "--package", "ansettelsesforhold"]);
        assert!(ok, "{err}");
        assert_eq!(decisions(&authorize(&server, &token, &request).await), ["Permit"]);
    });
}

#[tokio::test]
async fn operators_grant_packages_and_rights_from_the_cli() {
    for db in databases().await {
        eprintln!("store: {}", db.name);
        let (store, _ring) = db.store_args().open().await.unwrap();
        let customer = org(&store, CUSTOMER, "Kunde AS", "AS", None).await;
        let su = uuid::Uuid::new_v4().to_string();

        let (ok, out, err) = admin_cli(&db, &["grant", "package", "--from", CUSTOMER, "--to", &su, "--package", "urn:altinn:accesspackage:ansettelsesforhold"]);
        assert!(ok, "{err}");
        let granted: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(granted["package"], "urn:altinn:accesspackage:ansettelsesforhold");
        assert_eq!(granted["changed"], true);
        let (ok, out, _) = admin_cli(&db, &["grant", "package", "--from", CUSTOMER, "--to", &su, "--package", "ansettelsesforhold"]);
        assert!(ok);
        assert_eq!(serde_json::from_str::<Value>(&out).unwrap()["changed"], false, "granting twice is idempotent");
        assert!(holds(&grants_of(&store, Subject::SystemUser(su.clone()), &customer).await, "ansettelsesforhold"));

        let before = store.change_sequence().await.unwrap();
        for (args, expected) in [
            (vec!["--package", "no-such-package"], "not an access package"),
            (vec!["--package", "regnskapsforer-lonn"], "cannot be assigned"),
            (vec!["--package", "innbygger-skatteforhold-privatpersoner"], "for a person"),
        ] {
            let mut all = vec!["grant", "package", "--from", CUSTOMER, "--to", &su];
            all.extend(args);
            let (ok, _, err) = admin_cli(&db, &all);
            assert!(!ok && err.contains(expected), "{all:?}: {err}");
        }
        let (ok, _, err) = admin_cli(&db, &["grant", "package", "--from", ACCOUNTANT, "--to", &su, "--package", "lonn"]);
        assert!(!ok && err.contains("no organisation"), "{err}");
        let (ok, _, err) = admin_cli(&db, &["grant", "package", "--from", CUSTOMER, "--to", "not-a-recipient", "--package", "lonn"]);
        assert!(!ok && err.contains("neither"), "{err}");
        let (ok, _, err) = admin_cli(&db, &["grant", "right", "--from", CUSTOMER, "--to", &su, "--resource", "no-such-resource", "--action", "read"]);
        assert!(!ok && err.contains("no-such-resource"), "{err}");
        assert_eq!(store.change_sequence().await.unwrap(), before, "a refused grant changed something");

        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), resource("digdir-cli-right").to_string()).unwrap();
        let (ok, _, err) = admin_cli(&db, &["resource", "create", "--file", file.path().to_str().unwrap()]);
        assert!(ok, "{err}");
        let (ok, out, err) = admin_cli(&db, &["grant", "right", "--from", CUSTOMER, "--to", &su, "--resource", "digdir-cli-right", "--action", "read"]);
        assert!(ok, "{err}");
        assert_eq!(serde_json::from_str::<Value>(&out).unwrap()["action"], "read");
        assert!(grants_of(&store, Subject::SystemUser(su.clone()), &customer).await.has_right("digdir-cli-right", "read"));
        store.close().await;
    }
}

#[tokio::test]
async fn access_lists_gate_permits_and_only_their_owner_writes_them() {
    on_every_store!(|server, _vendor| {
        let store = &server.store;
        let customer = org(store, CUSTOMER, "Kunde AS", "AS", None).await;
        let accountant = org(store, ACCOUNTANT, "Regnskap AS", "AS", None).await;
        let owner = api_token(&server, OWNER_ORG, &[WRITE, "altinn:resourceregistry/accesslist.write"]).await;
        let mut limited = resource("digdir-banker");
        limited["accessListMode"] = "Enabled".into();
        assert_eq!(call(&server, Method::POST, "/resourceregistry/api/v1/resource", Some(&owner), Some(&limited.to_string())).await.0, 201);
        let policy = altinn_policy("digdir-banker", &[("urn:altinn:accesspackage", "ansettelsesforhold")], &["read", "write"]);
        assert_eq!(upload_policy(&server, "digdir-banker", Some(&owner), "policyFile", &policy).await.0, 201);
        let su = uuid::Uuid::new_v4().to_string();
        for party in [&customer, &accountant] {
            grants::grant_package(store, catalogue(), party, &Recipient::SystemUser(su.clone()), "ansettelsesforhold").await.unwrap();
        }
        let token = api_token(&server, VENDOR_ORG, &[AUTHORIZE]).await;
        let ask = |orgno: &'static str, action: &'static str| su_request(&su, action, "digdir-banker", ("urn:altinn:organization:identifier-no", orgno));

        // No list yet: the policy permits, the gate denies with status ok.
        let r = authorize(&server, &token, &ask(CUSTOMER, "read")).await;
        assert_eq!(decisions(&r), ["Deny"], "{r}");
        assert_eq!(r["response"][0]["status"]["statusCode"]["value"], "urn:oasis:names:tc:xacml:1.0:status:ok");

        let base = "/resourceregistry/api/v1/access-lists/digdir/godkjente";
        let (status, list) = call(&server, Method::PUT, base, Some(&owner), Some(r#"{"name":"Godkjente","description":"Godkjente kunder"}"#)).await;
        assert_eq!(status, 200, "{list}");
        assert_eq!(list["urn"], "urn:altinn:access-list:digdir:godkjente");
        let (status, members) = call(&server, Method::POST, &format!("{base}/members"), Some(&owner),
            Some(&json!({"data": [format!("urn:altinn:organization:identifier-no:{CUSTOMER}")]}).to_string())).await;
        assert_eq!(status, 200, "{members}");
        assert_eq!(members["data"][0]["id"], format!("urn:altinn:party:uuid:{}", customer.party_uuid));
        let (status, c) = call(&server, Method::PUT, &format!("{base}/resource-connections/digdir-banker"), Some(&owner), Some(r#"{"actionFilters":["read"]}"#)).await;
        assert_eq!(status, 200, "{c}");

        assert_eq!(decisions(&authorize(&server, &token, &ask(CUSTOMER, "read")).await), ["Permit"]);
        assert_eq!(decisions(&authorize(&server, &token, &ask(CUSTOMER, "write")).await), ["Deny"], "the action filter holds");
        assert_eq!(decisions(&authorize(&server, &token, &ask(ACCOUNTANT, "read")).await), ["Deny"], "not on the list");
        let (status, m) = call(&server, Method::GET,
            &format!("/resourceregistry/api/v1/access-lists/memberships?party=urn:altinn:organization:identifier-no:{CUSTOMER}&resource=urn:altinn:resource:digdir-banker"),
            Some(&owner), None).await;
        assert_eq!(status, 200, "{m}");
        assert_eq!(m["data"][0]["actionFilters"], json!(["read"]));

        // The wrong caller and bad input change nothing.
        let other = api_token(&server, OTHER_ORG, &["altinn:resourceregistry/accesslist.write"]).await;
        let before = store.change_sequence().await.unwrap();
        let body = r#"{"name":"x"}"#;
        assert_problem(&call(&server, Method::PUT, base, Some(&other), Some(body)).await, 403, "digdir");
        assert_problem(&call(&server, Method::PUT, base, None, Some(body)).await, 401, "bearer token");
        assert_problem(&call(&server, Method::PUT, base, Some(&token), Some(body)).await, 403, "accesslist.write");
        assert_problem(&call(&server, Method::GET, &format!("{base}/members"), Some(&other), None).await, 403, "digdir");
        let stale = server.http.put(format!("{}{base}", server.base)).bearer_auth(&owner).header("if-match", "\"1\"")
            .header("content-type", "application/json").body(body).send().await.unwrap();
        assert_eq!(stale.status(), 412);
        for (members, status, detail) in [
            (json!({"data": ["urn:altinn:person:identifier-no:01010012356"]}), 400, "not a party URN"),
            (json!({"data": ["urn:altinn:organization:identifier-no:974761076"]}), 404, "no party"),
            (json!({"data": ["urn:altinn:organization:identifier-no:123"]}), 400, "9 digits"),
            (json!({"data": vec!["urn:altinn:party:id:1"; 101]}), 400, "at most 100"),
            (json!({"members": []}), 400, "not valid JSON"),
        ] {
            assert_problem(&call(&server, Method::POST, &format!("{base}/members"), Some(&owner), Some(&members.to_string())).await, status, detail);
        }
        assert_problem(&call(&server, Method::PUT, "/resourceregistry/api/v1/access-lists/digdir/Bad List", Some(&owner), Some(body)).await, 400, "identifier");
        assert_problem(&call(&server, Method::PUT, &format!("{base}/resource-connections/digdir-none"), Some(&owner), Some("{}")).await, 404, "digdir-none");
        assert_eq!(store.change_sequence().await.unwrap(), before, "a refused write changed something");

        // Removing the member decides the next request.
        let (status, _) = call(&server, Method::DELETE, &format!("{base}/members"), Some(&owner),
            Some(&json!({"data": [format!("urn:altinn:party:uuid:{}", customer.party_uuid)]}).to_string())).await;
        assert_eq!(status, 200);
        assert_eq!(decisions(&authorize(&server, &token, &ask(CUSTOMER, "read")).await), ["Deny"]);
    });
}

/// The decision index must answer exactly what the PIP answers for system users, after every
/// kind of write, on a node that only follows the change log.
#[tokio::test]
async fn the_decision_index_agrees_with_the_pip_after_every_kind_of_write() {
    use fullmakt_service::decision_index::{parse_uuid, DecisionIndex};
    for db in databases().await {
        eprintln!("store: {}", db.name);
        let (store, _ring) = db.store_args().open().await.unwrap();
        // Built before anything exists, so everything below reaches it through the change log.
        let index = DecisionIndex::load(store.clone(), catalogue()).await.unwrap();
        let customer = org(&store, CUSTOMER, "Kunde AS", "AS", None).await;
        let branch = org(&store, BRANCH, "Kunde AS avd. Bergen", "BEDR", Some(CUSTOMER)).await;
        let accountant = org(&store, ACCOUNTANT, "Regnskap AS", "AS", None).await;
        let client = org(&store, CLIENT, "Klient AS", "AS", None).await;
        role(&store, CLIENT, "REGN", RoleHolder::Organisation(ACCOUNTANT.into())).await;
        let su = uuid::Uuid::new_v4().to_string();
        let agent = uuid::Uuid::new_v4().to_string();
        let parties = [&customer, &branch, &accountant, &client];

        let agree = |label: &'static str| {
            let (store, index, su, agent) = (&store, &index, su.clone(), agent.clone());
            async move {
                index.fresh().await.unwrap();
                // Every key finds the same party, as the register has it now.
                for party in parties {
                    let row = store.find_party(fullmakt_store::PartyKey::Id(party.party_id)).await.unwrap().unwrap();
                    let expected = Some(fullmakt_service::decision_index::IndexedParty {
                        party_id: row.party_id,
                        main_unit: row.main_unit_party_id,
                        org_number: row.org_number.as_deref().map(|n| n.parse().unwrap()),
                    });
                    assert_eq!(index.party_by_id(row.party_id), expected, "{label}: {} by id", row.name);
                    assert_eq!(index.party_by_org_number(row.org_number.as_deref().unwrap()), expected, "{label}: {} by number", row.name);
                    assert_eq!(index.party_by_uuid(parse_uuid(&row.party_uuid).unwrap()), expected, "{label}: {} by uuid", row.name);
                }
                for who in [&su, &agent] {
                    for party in parties {
                        let pip = grants_of(store, Subject::SystemUser(who.clone()), party).await;
                        let fast = index.system_user_access(parse_uuid(who).unwrap(), party.party_id);
                        assert_eq!(fast.packages, pip.package_set(), "{label}: packages of {who} for {}", party.name);
                        let mut fast_rights: Vec<(String, String)> = fast.rights.iter().map(|(r, a)| (r.to_string(), a.to_string())).collect();
                        fast_rights.sort();
                        fast_rights.dedup();
                        let pip_rights: Vec<(String, String)> = pip.rights.keys().cloned().collect();
                        assert_eq!(fast_rights, pip_rights, "{label}: rights of {who} for {}", party.name);
                    }
                }
            }
        };

        agree("empty").await;
        grants::grant_package(&store, catalogue(), &customer, &Recipient::SystemUser(su.clone()), "ansettelsesforhold").await.unwrap();
        grants::grant_package(&store, catalogue(), &branch, &Recipient::SystemUser(su.clone()), "skatt-naering").await.unwrap();
        agree("direct and main unit").await;
        assert!(!index.system_user_access(parse_uuid(&su).unwrap(), branch.party_id).packages.is_empty());
        let r = fullmakt_domain::resource::ServiceResource::from_json(resource("digdir-index").to_string().as_bytes()).unwrap();
        fullmakt_service::resource_registry::create_resource(&store, fullmakt_service::resource_registry::Writer::Operator, &r).await.unwrap();
        grants::grant_right(&store, &customer, &Recipient::SystemUser(su.clone()), "digdir-index", "read").await.unwrap();
        agree("a right").await;
        grants::delegate_client_packages(&store, catalogue(), &accountant, &client, "REGN", &agent, &["regnskapsforer-lonn".into()]).await.unwrap();
        agree("client delegation").await;
        assert!(!index.system_user_access(parse_uuid(&agent).unwrap(), client.party_id).packages.is_empty());
        // The client also gives the agent a package itself: both paths in one index entry.
        grants::grant_package(&store, catalogue(), &client, &Recipient::SystemUser(agent.clone()), "ansettelsesforhold").await.unwrap();
        agree("a direct grant beside a client delegation").await;
        grants::revoke_package(&store, catalogue(), &client, &Recipient::SystemUser(agent.clone()), "ansettelsesforhold").await.unwrap();
        agree("the direct grant beside a client delegation revoked").await;
        assert!(!index.system_user_access(parse_uuid(&agent).unwrap(), client.party_id).packages.is_empty());
        let mut tx = store.begin_write().await.unwrap();
        tx.delete_er_role(&fullmakt_store::ErRoleRow { from_party_id: client.party_id, role_code: "regnskapsforer".into(), to_party_id: accountant.party_id })
            .await
            .unwrap();
        tx.commit().await.unwrap();
        agree("ER role removed").await;
        assert!(index.system_user_access(parse_uuid(&agent).unwrap(), client.party_id).packages.is_empty());
        role(&store, CLIENT, "REGN", RoleHolder::Organisation(ACCOUNTANT.into())).await;
        agree("ER role back").await;
        let mut tx = store.begin_write().await.unwrap();
        tx.delete_assignments_to(&agent).await.unwrap();
        tx.commit().await.unwrap();
        agree("agent removed").await;
        grants::revoke_package(&store, catalogue(), &customer, &Recipient::SystemUser(su.clone()), "ansettelsesforhold").await.unwrap();
        grants::revoke_right(&store, &customer, &Recipient::SystemUser(su.clone()), "digdir-index", "read").await.unwrap();
        agree("revoked").await;
        // A bulk import logs `all`: the index is rebuilt and still agrees.
        let lines = format!("{{\"type\":\"role\",\"from\":\"{CLIENT}\",\"role\":\"REVI\",\"toOrganization\":\"{ACCOUNTANT}\"}}\n");
        let import = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(import.path(), lines).unwrap();
        let (ok, _, err) = admin_cli(&db, &["register", "import", import.path().to_str().unwrap()]);
        assert!(ok, "{err}");
        assert!(store.index_changes(0, i64::MAX).await.unwrap().iter().any(|c| c.kind == "all"), "an import logs a rebuild");
        agree("after an import").await;
        // A node that fell behind the swept part of the log rebuilds instead of missing a change.
        grants::grant_package(&store, catalogue(), &customer, &Recipient::SystemUser(su.clone()), "lonn").await.unwrap();
        grants::grant_package(&store, catalogue(), &client, &Recipient::SystemUser(su.clone()), "lonn").await.unwrap();
        assert!(store.sweep_index_changes(0).await.unwrap() > 0);
        agree("after the log was swept").await;
        store.close().await;
    }
}

#[tokio::test]
async fn hostile_xml_at_the_decision_route_is_refused_quickly() {
    on_every_store!(|server, _vendor| {
        let laughs = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<Request xmlns="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17" ReturnPolicyIdList="false" CombinedDecision="false">&lol3;</Request>"#
            .to_owned();
        let external = r#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><Request xmlns="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17">&x;</Request>"#.to_owned();
        let deep = format!("{}{}", "<a>".repeat(20_000), "</a>".repeat(20_000));
        for body in [laughs, external, deep, "<Request".to_owned()] {
            let started = std::time::Instant::now();
            let res = server
                .http
                .post(format!("{}/authorization/api/v1/decision", server.base))
                .header("content-type", "application/xml")
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200);
            let text = res.text().await.unwrap();
            assert!(text.contains("<Decision>Indeterminate</Decision>"), "{text}");
            assert!(text.contains("urn:oasis:names:tc:xacml:1.0:status:syntax-error"), "{text}");
            assert!(!text.contains("root:"), "no external entity is ever read");
            assert!(started.elapsed() < std::time::Duration::from_secs(5), "refused without expanding anything");
        }
        // Bodies over the limit never reach the parser.
        let huge = format!("<Request>{}</Request>", "x".repeat(300 * 1024));
        let res = server.http.post(format!("{}/authorization/api/v1/decision", server.base)).header("content-type", "application/xml").body(huge).send().await.unwrap();
        assert_eq!(res.status(), 413);
    });
}
