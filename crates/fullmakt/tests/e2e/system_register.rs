//! `/authentication/api/v1/systemregister…`: vendors register, replace and delete systems; every
//! validation code, every wrong caller and malformed body gets its specific answer and changes
//! nothing; deleted systems stay readable and keep their ids; client ids are unique and freed.

use reqwest::Method;
use serde_json::{json, Value};

use crate::harness::*;

const WRITE: &str = "altinn:authentication/systemregister.write";
const ADMIN: &str = "altinn:authentication/systemregister.admin";
const BASE: &str = "/authentication/api/v1/systemregister";
const RESOURCE: &str = "ske-krav-og-betalinger";
const OTHER_RESOURCE: &str = "digdir-lonn";
const SCHEMA: &str = "digdir-maskinporten-api";
const NOT_DELEGABLE: &str = "digdir-intern";
const APP: &str = "app_digdir_regnskap";
const PACKAGE: &str = "urn:altinn:accesspackage:skatt-naering";
const OTHER_PACKAGE: &str = "urn:altinn:accesspackage:regnskap-okonomi-rapport";

fn system_id(name: &str) -> String {
    format!("{VENDOR_ORG}_{name}")
}

/// A valid RegisterSystemRequest of VENDOR_ORG.
fn system(name: &str) -> Value {
    json!({
        "id": system_id(name),
        "vendor": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{VENDOR_ORG}")},
        "name": {"nb": "Matrisen", "en": "The Matrix", "nn": "Matrisa"},
        "description": {"nb": "Testsystem", "en": "Test system", "nn": "Testsystem"},
        "rights": [{"resource": [{"id": "urn:altinn:resource", "value": RESOURCE}]}],
        "accessPackages": [{"urn": PACKAGE}],
        "clientId": [format!("client-{name}")],
        "isVisible": true,
        "allowedRedirectUrls": ["https://vg.no"]
    })
}

/// Registry resources the rights name: two delegable ones, a Maskinporten schema, one marked
/// not delegable, and an app.
async fn seed_resources(server: &TestServer) {
    use fullmakt_domain::resource::ServiceResource;
    use fullmakt_service::resource_registry::{create_resource, Writer};
    let with = |id: &str, f: &dyn Fn(&mut Value)| {
        let mut r = crate::resource_registry::resource(id);
        f(&mut r);
        ServiceResource::from_json(r.to_string().as_bytes()).unwrap()
    };
    let resources = [
        with(RESOURCE, &|_| {}),
        with(OTHER_RESOURCE, &|_| {}),
        with(SCHEMA, &|r| {
            r["resourceType"] = json!("MaskinportenSchema");
            r["resourceReferences"] = json!([{"referenceSource": "ExternalPlatform", "reference": "digdir:api", "referenceType": "MaskinportenScope"}]);
        }),
        with(NOT_DELEGABLE, &|r| r["delegable"] = json!(false)),
        with(APP, &|r| {
            r["resourceType"] = json!("AltinnApp");
            r["resourceReferences"] = json!([{"referenceSource": "Altinn3", "reference": "digdir/regnskap", "referenceType": "ApplicationId"}]);
        }),
    ];
    for r in &resources {
        create_resource(&server.store, Writer::Operator, r).await.unwrap();
    }
}

async fn create(server: &TestServer, token: &str, body: &Value) -> (u16, Value) {
    call(server, Method::POST, &format!("{BASE}/vendor"), Some(token), Some(&body.to_string())).await
}

async fn sequence(server: &TestServer) -> i64 {
    server.store.change_sequence().await.unwrap()
}

/// The `AUTH.VLD` codes of a validation problem, in order.
fn vld_codes(response: &(u16, Value)) -> Vec<String> {
    let (status, body) = response;
    assert_eq!(*status, 400, "{body}");
    assert_eq!(body["type"], "urn:altinn:error:STD-00000", "{body}");
    assert_eq!(body["code"], "STD-00000");
    assert_eq!(body["title"], "One or more validation errors occurred.");
    assert_eq!(body["statusDescription"], "Bad Request");
    assert_eq!(body["traceId"].as_str().unwrap().len(), 32);
    body["validationErrors"].as_array().unwrap().iter().map(|e| e["code"].as_str().unwrap().to_owned()).collect()
}

fn vld(numbers: &[u16]) -> Vec<String> {
    numbers.iter().map(|n| format!("AUTH.VLD-{n:05}")).collect()
}

fn client_id_of(token: &str) -> String {
    decode_jwt_part(token, 1)["client_id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_vendor_registers_replaces_updates_and_deletes_a_system() {
    on_every_store!(|server, _vendor| {
        seed_resources(&server).await;
        let token = api_token(&server, VENDOR_ORG, &[WRITE]).await;
        let id = system_id("matrix");

        let (status, internal) = create(&server, &token, &system("matrix")).await;
        assert_eq!(status, 200, "{internal}");
        let internal = internal.as_str().expect("the internal id as a JSON string").to_owned();
        assert!(uuid::Uuid::parse_str(&internal).is_ok());

        let (status, stored) = call(&server, Method::GET, &format!("{BASE}/vendor/{id}"), Some(&token), None).await;
        assert_eq!(status, 200, "{stored}");
        assert_eq!(
            stored,
            json!({
                "id": id, "vendor": {"ID": format!("0192:{VENDOR_ORG}")},
                "name": {"en": "The Matrix", "nb": "Matrisen", "nn": "Matrisa"},
                "description": {"en": "Test system", "nb": "Testsystem", "nn": "Testsystem"},
                "rights": [{"resource": [{"id": "urn:altinn:resource", "value": RESOURCE}]}],
                "accessPackages": [{"urn": PACKAGE}],
                "isDeleted": false, "clientId": ["client-matrix"], "isVisible": true,
                "allowedRedirectUrls": ["https://vg.no/"]
            })
        );
        let (status, list) = call(&server, Method::GET, &format!("{BASE}/vendor"), Some(&token), None).await;
        assert_eq!(status, 200);
        assert_eq!(
            list,
            json!([{
                "systemId": id, "systemVendorOrgNumber": VENDOR_ORG, "systemVendorOrgName": "",
                "name": {"en": "The Matrix", "nb": "Matrisen", "nn": "Matrisa"},
                "description": {"en": "Test system", "nb": "Testsystem", "nn": "Testsystem"},
                "rights": [{"resource": [{"id": "urn:altinn:resource", "value": RESOURCE}]}],
                "accessPackages": [{"urn": PACKAGE}], "isVisible": true
            }])
        );

        // PUT replaces everything; input names in any case, strings trimmed.
        let put = json!({
            "Id": format!(" {id} "), "Vendor": {"ID": format!("0192:{VENDOR_ORG}")},
            "Name": {"nb": "Ny", "en": "New", "nn": "Ny"}, "Description": {"nb": "d", "en": "d", "nn": "d"},
            "Rights": [{"action": "read", "resource": [{"id": "urn:altinn:resource", "value": OTHER_RESOURCE}]}],
            "AccessPackages": [], "ClientId": ["client-a", "client-b"], "IsVisible": false,
            "AllowedRedirectUrls": ["https://Example.com/callback?x=1"]
        });
        let (status, body) = call(&server, Method::PUT, &format!("{BASE}/vendor/{id}"), Some(&token), Some(&put.to_string())).await;
        assert_eq!((status, body), (200, json!({"succeeded": true})));
        let (_, stored) = call(&server, Method::GET, &format!("{BASE}/vendor/{id}"), Some(&token), None).await;
        assert_eq!(stored["name"]["en"], "New");
        assert_eq!(stored["rights"], json!([{"action": "read", "resource": [{"id": "urn:altinn:resource", "value": OTHER_RESOURCE}]}]));
        assert_eq!(stored["accessPackages"], json!([]));
        assert_eq!(stored["clientId"], json!(["client-a", "client-b"]));
        assert_eq!(stored["isVisible"], false);
        assert_eq!(stored["allowedRedirectUrls"], json!(["https://example.com/callback?x=1"]));

        // The same ids again are fine; an empty list clears them.
        let mut again = put.clone();
        again["ClientId"] = json!([]);
        let (status, _) = call(&server, Method::PUT, &format!("{BASE}/vendor/{id}"), Some(&token), Some(&again.to_string())).await;
        assert_eq!(status, 200);
        let (_, stored) = call(&server, Method::GET, &format!("{BASE}/vendor/{id}"), Some(&token), None).await;
        assert_eq!(stored["clientId"], json!([]));

        let rights = json!([{"resource": [{"id": "urn:altinn:resource", "value": RESOURCE}]}]);
        let (status, body) =
            call(&server, Method::PUT, &format!("{BASE}/vendor/{id}/rights"), Some(&token), Some(&rights.to_string())).await;
        assert_eq!((status, body), (200, json!({"succeeded": true})));
        let packages = json!([{"URN": OTHER_PACKAGE}]);
        let (status, body) =
            call(&server, Method::PUT, &format!("{BASE}/vendor/{id}/accesspackages"), Some(&token), Some(&packages.to_string())).await;
        assert_eq!((status, body), (200, json!({"succeeded": true})));
        let (_, stored) = call(&server, Method::GET, &format!("{BASE}/vendor/{id}"), Some(&token), None).await;
        assert_eq!(stored["rights"], rights);
        assert_eq!(stored["accessPackages"], json!([{"urn": OTHER_PACKAGE}]));

        let (status, body) = call(&server, Method::DELETE, &format!("{BASE}/vendor/{id}"), Some(&token), None).await;
        assert_eq!((status, body), (200, json!({"succeeded": true})));
        let (status, stored) = call(&server, Method::GET, &format!("{BASE}/vendor/{id}"), Some(&token), None).await;
        assert_eq!(status, 200, "a deleted system stays readable by id");
        assert_eq!(stored["isDeleted"], true);
        let (_, list) = call(&server, Method::GET, &format!("{BASE}/vendor"), Some(&token), None).await;
        assert_eq!(list, json!([]), "but is no longer listed");
        let before = sequence(&server).await;
        let (status, body) = call(&server, Method::DELETE, &format!("{BASE}/vendor/{id}"), Some(&token), None).await;
        assert_eq!((status, body), (200, json!({"succeeded": true})), "deleting again succeeds");
        assert_eq!(sequence(&server).await, before, "and writes nothing");
        let (status, body) = call(&server, Method::PUT, &format!("{BASE}/vendor/{id}"), Some(&token), Some(&put.to_string())).await;
        assert_eq!((status, body), (400, json!("Cannot update a system marked as deleted.")));
        for path in ["rights", "accesspackages"] {
            let (status, body) = call(&server, Method::PUT, &format!("{BASE}/vendor/{id}/{path}"), Some(&token), Some("[]")).await;
            assert_eq!((status, body), (400, json!("Cannot update a system marked as deleted.")), "{path}");
        }
        // The id stays taken for ever.
        assert_eq!(vld_codes(&create(&server, &token, &system("matrix")).await), vld(&[2]));

        // The change log: every write, newest first, by whom and with what.
        let (status, log) = call(&server, Method::GET, &format!("{BASE}/vendor/{id}/changelog"), Some(&token), None).await;
        assert_eq!(status, 200, "{log}");
        let log = log.as_array().unwrap();
        let types: Vec<&str> = log.iter().map(|e| e["changeType"].as_str().unwrap()).collect();
        assert_eq!(types, vec!["delete", "accesspackageupdate", "rightsupdate", "update", "update", "create"]);
        for entry in log {
            assert_eq!(entry["systemInternalId"], internal.as_str());
            assert_eq!(entry["changedByOrgNumber"], VENDOR_ORG);
            assert_eq!(entry["clientId"], client_id_of(&token).as_str());
            let created = entry["created"].as_str().unwrap();
            assert!(created.len() == 20 && created.as_bytes()[10] == b'T' && created.ends_with('Z'), "RFC 3339 UTC: {created}");
        }
        assert_eq!(log[0]["changedData"], Value::Null);
        assert_eq!(log[1]["changedData"], json!([{"Urn": OTHER_PACKAGE}]));
        assert_eq!(log[2]["changedData"], json!([{"Action": null, "Resource": [{"id": "urn:altinn:resource", "value": RESOURCE}]}]));
        let created = &log[5]["changedData"];
        assert_eq!(created["Id"], id.as_str());
        assert_eq!(created["Vendor"], json!({"ID": format!("0192:{VENDOR_ORG}")}));
        assert_eq!(created["ClientId"], json!(["client-matrix"]));
        assert_eq!(created["IsVisible"], true);
        assert_eq!(created["AccessPackages"], json!([{"Urn": PACKAGE}]));
        assert_eq!(created["AllowedRedirectUrls"], json!(["https://vg.no/"]));
        assert_eq!(log[4]["changedData"]["ClientId"], json!(["client-a", "client-b"]));
    });
}

#[tokio::test]
async fn client_ids_are_unique_across_systems_and_freed_by_delete() {
    on_every_store!(|server, _vendor| {
        seed_resources(&server).await;
        let token = api_token(&server, VENDOR_ORG, &[WRITE]).await;
        let mut first = system("first");
        first["clientId"] = json!(["shared-client"]);
        assert_eq!(create(&server, &token, &first).await.0, 200);

        let mut second = system("second");
        second["clientId"] = json!(["SHARED-client"]);
        assert_eq!(vld_codes(&create(&server, &token, &second).await), vld(&[4]), "letter case does not make another id");
        second["clientId"] = json!(["x", "X"]);
        assert_eq!(vld_codes(&create(&server, &token, &second).await), vld(&[11]));
        second["clientId"] = json!([]);
        assert_eq!(create(&server, &token, &second).await.0, 200, "a system without client ids");

        // PUT: another system's id is VLD-04, duplicates VLD-11.
        let second_id = system_id("second");
        let mut put = system("second");
        put["clientId"] = json!(["shared-client"]);
        let path = format!("{BASE}/vendor/{second_id}");
        assert_eq!(vld_codes(&call(&server, Method::PUT, &path, Some(&token), Some(&put.to_string())).await), vld(&[4]));
        put["clientId"] = json!(["y", "Y"]);
        assert_eq!(vld_codes(&call(&server, Method::PUT, &path, Some(&token), Some(&put.to_string())).await), vld(&[11]));

        // Deleting the first frees the id, for a PUT and for a new system alike.
        assert_eq!(call(&server, Method::DELETE, &format!("{BASE}/vendor/{}", system_id("first")), Some(&token), None).await.0, 200);
        put["clientId"] = json!(["shared-client"]);
        assert_eq!(call(&server, Method::PUT, &path, Some(&token), Some(&put.to_string())).await.0, 200);
        let found = fullmakt_service::system_register::find_live_system_by_client_id(&server.store, "Shared-Client").await.unwrap();
        assert_eq!(found.map(|s| s.system_id), Some(second_id.clone()));

        // A system without client ids is deleted like any other.
        let mut bare = system("bare");
        bare["clientId"] = json!([]);
        assert_eq!(create(&server, &token, &bare).await.0, 200);
        let (status, body) = call(&server, Method::DELETE, &format!("{BASE}/vendor/{}", system_id("bare")), Some(&token), None).await;
        assert_eq!((status, body), (200, json!({"succeeded": true})));
    });
}

#[tokio::test]
async fn every_validation_code_of_a_new_system() {
    on_every_store!(|server, _vendor| {
        seed_resources(&server).await;
        let token = api_token(&server, VENDOR_ORG, &[WRITE]).await;
        assert_eq!(create(&server, &token, &system("taken")).await.0, 200);
        let before = sequence(&server).await;
        let case = |name: &str, f: &dyn Fn(&mut Value)| {
            let mut s = system(name);
            f(&mut s);
            s
        };
        let resource = |id: &str, value: &str| json!([{"resource": [{"id": id, "value": value}]}]);
        let cases: Vec<(Value, Vec<u16>)> = vec![
            // VLD-00 alone, first, whatever else is wrong.
            (case("x", &|s| {
                s["vendor"]["ID"] = json!(VENDOR_ORG);
                s["id"] = json!("bad id");
                s["allowedRedirectUrls"] = json!(["http://vg.no"]);
            }), vec![0]),
            (case("x", &|s| s["vendor"]["ID"] = json!("0192:314240978")), vec![0]),
            (case("x", &|s| s["id"] = json!(format!("{OTHER_ORG}_x"))), vec![1]),
            (case("x", &|s| s["id"] = json!(format!("{VENDOR_ORG}x"))), vec![1]),
            (case("x", &|s| s["id"] = json!(format!("{VENDOR_ORG}_a b"))), vec![13]),
            (case("x", &|s| s["id"] = json!(system_id("taken"))), vec![2]),
            (case("x", &|s| s["clientId"] = json!(["client-taken"])), vec![4]),
            (case("x", &|s| s["allowedRedirectUrls"] = json!(["http://vg.no"])), vec![5]),
            (case("x", &|s| s["allowedRedirectUrls"] = json!(["vg.no"])), vec![5]),
            (case("x", &|s| s["rights"] = resource("urn:altinn:resource", "no-such-resource")), vec![3]),
            (case("x", &|s| s["rights"] = resource("urn:altinn:app", RESOURCE)), vec![9]),
            (case("x", &|s| s["rights"] = resource("urn:altinn:resource", SCHEMA)), vec![17]),
            (case("x", &|s| s["rights"] = resource("urn:altinn:resource", NOT_DELEGABLE)), vec![17]),
            (case("x", &|s| {
                s["rights"] = json!([
                    {"resource": [{"id": "urn:altinn:resource", "value": RESOURCE}]},
                    {"action": "write", "resource": [{"id": "urn:altinn:resource", "value": RESOURCE}]}
                ])
            }), vec![6]),
            (case("x", &|s| s["accessPackages"] = json!([{"urn": "urn:altinn:nope"}])), vec![8]),
            (case("x", &|s| s["accessPackages"] = json!([{"urn": "urn:altinn:accesspackage:nope"}])), vec![8]),
            (case("x", &|s| s["accessPackages"] = json!([{"urn": PACKAGE}, {"urn": PACKAGE}])), vec![7]),
            (case("x", &|s| s["accessPackages"] = json!([{"urn": "urn:altinn:accesspackage:regnskapsforer-lonn"}])), vec![18]),
            (case("x", &|s| s["clientId"] = json!(["a", "A"])), vec![11]),
            // Everything collected, in the reference's order.
            (case("x", &|s| {
                s["id"] = json!(format!("{OTHER_ORG}_a b"));
                s["allowedRedirectUrls"] = json!(["ftp://x"]);
                s["clientId"] = json!(["client-taken"]);
                s["rights"] = json!([
                    {"resource": [{"id": "urn:altinn:org", "value": "skd"}]},
                    {"resource": [{"id": "urn:altinn:resource", "value": "missing"}]},
                    {"resource": [{"id": "urn:altinn:resource", "value": SCHEMA}]},
                    {"resource": [{"id": "urn:altinn:resource", "value": SCHEMA}]}
                ]);
                s["accessPackages"] = json!([{"urn": "bad"}, {"urn": "bad"}, {"urn": "urn:altinn:accesspackage:regnskapsforer-lonn"}]);
            }), vec![13, 1, 5, 4, 9, 3, 17, 6, 8, 7, 18]),
        ];
        for (body, expected) in cases {
            let response = create(&server, &token, &body).await;
            assert_eq!(vld_codes(&response), vld(&expected), "{body}");
        }
        assert_eq!(sequence(&server).await, before, "no refused request wrote anything");

        // Paths and extensions as the reference writes them.
        let mut s = system("x");
        s["vendor"]["ID"] = json!("991825827");
        let (_, body) = create(&server, &token, &s).await;
        assert_eq!(
            body["validationErrors"],
            json!([{"code": "AUTH.VLD-00000", "title": "the org number identifier is not valid ISO6523 identifier",
                    "paths": ["/registersystemrequest/vendor/id"]}])
        );
        let mut s = system("taken");
        s["clientId"] = json!([]);
        s["rights"] = json!([
            {"resource": [{"id": "urn:altinn:org", "value": "skd"}, {"id": "urn:altinn:app", "value": "app"}]},
            {"resource": [{"id": "urn:altinn:resource", "value": "gone"}, {"id": "urn:altinn:resource", "value": "gone2"}]},
            {"resource": [{"id": "urn:altinn:resource", "value": SCHEMA}]}
        ]);
        s["accessPackages"] = json!([{"urn": "urn:altinn:x"}, {"urn": "urn:altinn:accesspackage:nope"}]);
        let (_, body) = create(&server, &token, &s).await;
        assert_eq!(
            body["validationErrors"],
            json!([
                {"code": "AUTH.VLD-00002", "title": "The system id already exists", "paths": ["/registersystemrequest/systemid"]},
                {"code": "AUTH.VLD-00009", "title": "One or more resource id is in wrong format. The valid format is urn:altinn:resource",
                 "paths": ["/registersystemrequest/rights/resource"], "Invalid Resource Id Details : ": "skd | app"},
                {"code": "AUTH.VLD-00003", "title": "One or more resources specified in rights were not found in Altinn's resource register.",
                 "paths": ["/registersystemrequest/rights/resource"], "ResourceIds Not Found : ": "gone | gone2"},
                {"code": "AUTH.VLD-00017", "title": "One or more resources specified in rights is of resource type which is not delegable.",
                 "paths": ["/registersystemrequest/rights/resource"], "ResourceIds Not Delegable : ": SCHEMA},
                {"code": "AUTH.VLD-00008",
                 "title": "One or all the accesspackage(s) is not found in altinn's access packages or is not delegable",
                 "paths": ["/registersystemrequest/accesspackages"],
                 "Invalid Urn Details : ": "Invalid format: urn:altinn:x | Not found: urn:altinn:accesspackage:nope"}
            ])
        );

        // A client-delegation package is fine on a hidden system; an app and a visible package too.
        let mut hidden = system("hidden");
        hidden["isVisible"] = json!(false);
        hidden["accessPackages"] = json!([{"urn": "urn:altinn:accesspackage:regnskapsforer-lonn"}]);
        hidden["rights"] = resource("urn:altinn:resource", APP);
        assert_eq!(create(&server, &token, &hidden).await.0, 200);
    });
}

#[tokio::test]
async fn replacing_a_system_checks_in_the_reference_order_and_a_failure_changes_nothing() {
    on_every_store!(|server, _vendor| {
        seed_resources(&server).await;
        let token = api_token(&server, VENDOR_ORG, &[WRITE]).await;
        let other = api_token(&server, OTHER_ORG, &[WRITE]).await;
        assert_eq!(create(&server, &token, &system("one")).await.0, 200);
        assert_eq!(create(&server, &token, &system("two")).await.0, 200);
        let id = system_id("one");
        let path = format!("{BASE}/vendor/{id}");
        let (_, stored_before) = call(&server, Method::GET, &path, Some(&token), None).await;
        let (_, log_before) = call(&server, Method::GET, &format!("{path}/changelog"), Some(&token), None).await;
        let before = sequence(&server).await;

        let put = |f: &dyn Fn(&mut Value)| {
            let mut s = system("one");
            f(&mut s);
            s.to_string()
        };
        let not_found = json!(format!("System with ID '{id}' not found."));
        // Unknown system: 404 text. Another vendor: 403, before the body's vendor is compared.
        let (status, body) =
            call(&server, Method::PUT, &format!("{BASE}/vendor/{}", system_id("nope")), Some(&token), Some(&put(&|_| {}))).await;
        assert_eq!((status, body), (404, json!(format!("System with ID '{}' not found.", system_id("nope")))));
        let wrong_vendor = put(&|s| s["vendor"]["ID"] = json!(format!("0192:{OTHER_ORG}")));
        assert_eq!(call(&server, Method::PUT, &path, Some(&other), Some(&wrong_vendor)).await.0, 403);
        // The owner naming another vendor in the body: the same 404 as an unknown id.
        assert_eq!(call(&server, Method::PUT, &path, Some(&token), Some(&wrong_vendor)).await, (404, not_found.clone()));
        // Body id ≠ URL id: VLD-12 alone.
        let renamed = put(&|s| {
            s["id"] = json!(system_id("two"));
            s["clientId"] = json!(["client-two"]);
        });
        let response = call(&server, Method::PUT, &path, Some(&token), Some(&renamed)).await;
        assert_eq!(vld_codes(&response), vld(&[12]));
        assert_eq!(response.1["validationErrors"][0]["paths"], json!(["/registersystemrequest/systemid"]));
        // Collected: rights, packages (the proposed isVisible), client ids, redirect URLs.
        let everything = put(&|s| {
            s["rights"] = json!([{"resource": [{"id": "urn:altinn:resource", "value": "missing"}]}]);
            s["accessPackages"] = json!([{"urn": "urn:altinn:accesspackage:regnskapsforer-lonn"}]);
            s["clientId"] = json!(["client-two", "CLIENT-TWO"]);
            s["allowedRedirectUrls"] = json!(["http://insecure.no"]);
        });
        assert_eq!(vld_codes(&call(&server, Method::PUT, &path, Some(&token), Some(&everything)).await), vld(&[3, 18, 11, 4, 5]));
        // A redirect URL that is no https URL is a validation error, not a database error.
        let bad_url = put(&|s| s["allowedRedirectUrls"] = json!(["not a url"]));
        assert_eq!(vld_codes(&call(&server, Method::PUT, &path, Some(&token), Some(&bad_url)).await), vld(&[5]));
        // Languages the reference's database requires: a 400, not a 500.
        let no_nn = put(&|s| s["name"] = json!({"nb": "x", "en": "x"}));
        assert_problem(&call(&server, Method::PUT, &path, Some(&token), Some(&no_nn)).await, 400, "en, nb and nn");

        assert_eq!(sequence(&server).await, before, "nothing was written");
        assert_eq!(call(&server, Method::GET, &path, Some(&token), None).await.1, stored_before);
        assert_eq!(call(&server, Method::GET, &format!("{path}/changelog"), Some(&token), None).await.1, log_before);
    });
}

#[tokio::test]
async fn rights_and_packages_updates_validate_and_unknown_systems_are_404() {
    on_every_store!(|server, _vendor| {
        seed_resources(&server).await;
        let token = api_token(&server, VENDOR_ORG, &[WRITE]).await;
        assert_eq!(create(&server, &token, &system("visible")).await.0, 200);
        let mut hidden = system("hidden");
        hidden["isVisible"] = json!(false);
        assert_eq!(create(&server, &token, &hidden).await.0, 200);
        let before = sequence(&server).await;
        let nope = system_id("nope");
        let not_found = json!(format!("System with ID '{nope}' not found."));
        for part in ["rights", "accesspackages"] {
            let response = call(&server, Method::PUT, &format!("{BASE}/vendor/{nope}/{part}"), Some(&token), Some("[]")).await;
            assert_eq!(response, (404, not_found.clone()), "{part}");
        }
        let visible = system_id("visible");
        let rights_path = format!("{BASE}/vendor/{visible}/rights");
        for (rights, expected) in [
            (json!([{"resource": [{"id": "urn:altinn:resource", "value": "missing"}]}]), vec![3]),
            (json!([{"resource": [{"id": "urn:altinn:resourc", "value": RESOURCE}]}]), vec![9]),
            (json!([{"resource": [{"id": "urn:altinn:resource", "value": SCHEMA}]}]), vec![17]),
            (json!([{"resource": [{"id": "urn:altinn:resource", "value": RESOURCE}]}, {"resource": [{"id": "urn:altinn:resource", "value": RESOURCE}]}]), vec![6]),
        ] {
            let response = call(&server, Method::PUT, &rights_path, Some(&token), Some(&rights.to_string())).await;
            assert_eq!(vld_codes(&response), vld(&expected), "{rights}");
        }
        // VLD-18 reads the stored isVisible: refused on the visible system, fine on the hidden one.
        let client_only = json!([{"urn": "urn:altinn:accesspackage:regnskapsforer-lonn"}]).to_string();
        let response = call(&server, Method::PUT, &format!("{BASE}/vendor/{visible}/accesspackages"), Some(&token), Some(&client_only)).await;
        assert_eq!(vld_codes(&response), vld(&[18]));
        for (packages, expected) in [
            (json!([{"urn": "nope"}]), vec![8]),
            (json!([{"urn": PACKAGE}, {"urn": PACKAGE}]), vec![7]),
        ] {
            let response =
                call(&server, Method::PUT, &format!("{BASE}/vendor/{visible}/accesspackages"), Some(&token), Some(&packages.to_string())).await;
            assert_eq!(vld_codes(&response), vld(&expected), "{packages}");
        }
        assert_eq!(sequence(&server).await, before, "nothing was written");
        let hidden_path = format!("{BASE}/vendor/{}/accesspackages", system_id("hidden"));
        assert_eq!(call(&server, Method::PUT, &hidden_path, Some(&token), Some(&client_only)).await.0, 200);
    });
}

#[tokio::test]
async fn every_route_refuses_the_wrong_caller_and_lets_the_administrator_in() {
    for db in databases().await {
        eprintln!("store: {}", db.name);
        let server = TestServer::start(&db).await;
        seed_resources(&server).await;
        let owner = api_token(&server, VENDOR_ORG, &[WRITE]).await;
        assert_eq!(create(&server, &owner, &system("owned")).await.0, 200);
        let id = system_id("owned");
        let other_vendor = api_token(&server, OTHER_ORG, &[WRITE]).await;
        let read_scope = api_token(&server, VENDOR_ORG, &["altinn:authentication/systemregister.read"]).await;
        let expired = sign_as_server(
            &db,
            &json!({"alg": "RS256"}),
            &json!({"iss": server.issuer(), "exp": now() - 3600, "scope": WRITE, "client_id": "c",
                    "consumer": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{VENDOR_ORG}")}}),
        )
        .await;
        let person = sign_as_server(
            &db,
            &json!({"alg": "RS256", "typ": "JWT"}),
            &json!({"urn:altinn:userid": "50000000", "urn:altinn:party:uuid": uuid::Uuid::new_v4().to_string(),
                    "urn:altinn:partyid": 50000000, "urn:altinn:authlevel": 3, "pid": "01010012356",
                    "scope": format!("altinn:portal/enduser {WRITE}"), "nbf": now() - 10, "exp": now() + 600, "iat": now() - 10,
                    "iss": server.altinn_issuer()}),
        )
        .await;
        let put_body = system("owned").to_string();
        let routes: Vec<(Method, String, Option<String>)> = vec![
            (Method::GET, format!("{BASE}/vendor"), None),
            (Method::POST, format!("{BASE}/vendor"), Some(system("new").to_string())),
            (Method::GET, format!("{BASE}/vendor/{id}"), None),
            (Method::PUT, format!("{BASE}/vendor/{id}"), Some(put_body.clone())),
            (Method::PUT, format!("{BASE}/vendor/{id}/rights"), Some("[]".into())),
            (Method::PUT, format!("{BASE}/vendor/{id}/accesspackages"), Some("[]".into())),
            (Method::GET, format!("{BASE}/vendor/{id}/changelog"), None),
            (Method::DELETE, format!("{BASE}/vendor/{id}"), None),
        ];
        let before = sequence(&server).await;
        for (method, path, body) in &routes {
            let what = format!("{method} {path}");
            assert_problem(&call(&server, method.clone(), path, None, body.as_deref()).await, 401, "bearer token is required");
            assert_problem(&call(&server, method.clone(), path, Some("garbage"), body.as_deref()).await, 401, "not a JWT");
            assert_problem(&call(&server, method.clone(), path, Some(&expired), body.as_deref()).await, 401, "expired");
            // A person's token is no vendor's, whatever scopes it carries.
            let response = call(&server, method.clone(), path, Some(&person), body.as_deref()).await;
            assert_problem(&response, 401, "a person's token cannot be used here");
            let response = call(&server, method.clone(), path, Some(&read_scope), body.as_deref()).await;
            assert_problem(&response, 403, WRITE);
            if path != &format!("{BASE}/vendor") {
                let response = call(&server, method.clone(), path, Some(&other_vendor), body.as_deref()).await;
                assert_problem(&response, 403, "another vendor");
            } else if *method == Method::POST {
                // Creating a system for another vendor: 403, even though the body has errors too.
                let mut foreign = system("foreign");
                foreign["clientId"] = json!(["client-owned"]);
                let response = call(&server, Method::POST, path, Some(&other_vendor), Some(&foreign.to_string())).await;
                assert_problem(&response, 403, "another vendor");
            } else {
                let (status, list) = call(&server, method.clone(), path, Some(&other_vendor), None).await;
                assert_eq!((status, list), (200, json!([])), "{what}: another vendor sees only its own systems");
            }
        }
        assert_eq!(sequence(&server).await, before, "no refused request wrote anything");

        // The administrator may act on any vendor's system.
        let admin = api_token(&server, OWNER_ORG, &[ADMIN]).await;
        for (method, path, body) in &routes {
            let (status, response) = call(&server, method.clone(), path, Some(&admin), body.as_deref()).await;
            assert_eq!(status, 200, "{method} {path}: {response}");
        }
        let (_, log) = call(&server, Method::GET, &format!("{BASE}/vendor/{id}/changelog"), Some(&admin), None).await;
        assert_eq!(log[0]["changeType"], "delete");
        assert_eq!(log[0]["changedByOrgNumber"], OWNER_ORG, "the change log names the administrator");
        server.stop().await;
    }
}

#[tokio::test]
async fn malformed_bodies_and_unknown_systems_get_a_specific_answer() {
    on_every_store!(|server, _vendor| {
        seed_resources(&server).await;
        let token = api_token(&server, VENDOR_ORG, &[WRITE]).await;
        assert_eq!(create(&server, &token, &system("known")).await.0, 200);
        let known = system_id("known");
        let before = sequence(&server).await;
        let post = format!("{BASE}/vendor");
        let mut wrong_type = system("x");
        wrong_type["isVisible"] = json!("yes");
        let mut missing_vendor = system("x");
        missing_vendor.as_object_mut().unwrap().remove("vendor");
        let mut rights_not_a_list = system("x");
        rights_not_a_list["rights"] = json!({"resource": []});
        for body in ["{", "[]", "null", &wrong_type.to_string(), &missing_vendor.to_string(), &rights_not_a_list.to_string()] {
            assert_problem(&call(&server, Method::POST, &post, Some(&token), Some(body)).await, 400, "not a valid RegisterSystemRequest");
            let put = format!("{BASE}/vendor/{known}");
            assert_problem(&call(&server, Method::PUT, &put, Some(&token), Some(body)).await, 400, "not a valid RegisterSystemRequest");
        }
        let mut no_languages = system("x");
        no_languages["description"] = json!({"nb": "only"});
        let response = call(&server, Method::POST, &post, Some(&token), Some(&no_languages.to_string())).await;
        assert_problem(&response, 400, "missing: en, nn");
        assert!(response.1["errors"]["description"].is_array(), "{}", response.1);
        for body in ["{}", "[{\"resource\": \"x\"}]", "[{\"resource\": [{\"id\": 1, \"value\": \"x\"}]}]"] {
            let path = format!("{BASE}/vendor/{known}/rights");
            assert_problem(&call(&server, Method::PUT, &path, Some(&token), Some(body)).await, 400, "not a valid list of rights");
        }
        for body in ["{}", "[{\"urn\": 5}]", "[\"urn:altinn:accesspackage:x\"]"] {
            let path = format!("{BASE}/vendor/{known}/accesspackages");
            assert_problem(&call(&server, Method::PUT, &path, Some(&token), Some(body)).await, 400, "not a valid list of access packages");
        }
        assert_eq!(sequence(&server).await, before, "nothing was written");

        let nope = system_id("nope");
        assert_problem(&call(&server, Method::GET, &format!("{BASE}/vendor/{nope}"), Some(&token), None).await, 404, "no system");
        let (status, body) = call(&server, Method::GET, &format!("{BASE}/vendor/{nope}/changelog"), Some(&token), None).await;
        assert_eq!((status, body), (404, json!(format!("System with ID {nope} not found."))));
        let (status, body) = call(&server, Method::DELETE, &format!("{BASE}/vendor/{nope}"), Some(&token), None).await;
        assert_eq!(status, 400);
        assert_eq!(body["errors"], json!({"return": ["System not found"]}));
        let res = server.http.get(format!("{}{BASE}/vendor/{nope}/changelog", server.base)).bearer_auth(&token).send().await.unwrap();
        assert_eq!(res.headers()["content-type"], "text/plain; charset=utf-8");
        let res = server.http.post(format!("{}{post}", server.base)).bearer_auth(&token).body(system("known").to_string()).send().await.unwrap();
        assert_eq!(res.headers()["content-type"], "application/problem+json");
    });
}

#[tokio::test]
async fn the_operator_registers_shows_and_deletes_systems_from_the_cli() {
    for db in databases().await {
        eprintln!("store: {}", db.name);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("system.json");
        let mut body = system("cli");
        body["rights"] = json!([]);
        std::fs::write(&file, body.to_string()).unwrap();
        let file = file.to_str().unwrap();
        let id = system_id("cli");

        let (ok, out, err) = admin_cli(&db, &["system", "create", "--file", file]);
        assert!(ok, "{err}");
        let created: Value = serde_json::from_str(&out).unwrap();
        assert_eq!((created["id"].clone(), created["isDeleted"].clone()), (json!(id), json!(false)));
        assert_eq!(created["allowedRedirectUrls"], json!(["https://vg.no/"]));

        let (ok, out, err) = admin_cli(&db, &["system", "create", "--file", file]);
        assert!(!ok && out.is_empty());
        assert!(err.contains("AUTH.VLD-00002") && err.contains("AUTH.VLD-00004"), "{err}");

        let (ok, out, _) = admin_cli(&db, &["system", "delete", "--id", &id]);
        assert!(ok);
        assert_eq!(serde_json::from_str::<Value>(&out).unwrap()["isDeleted"], true);
        let (ok, out, _) = admin_cli(&db, &["system", "show", "--id", &id]);
        assert!(ok);
        assert_eq!(serde_json::from_str::<Value>(&out).unwrap()["clientId"], json!([]));
        let (ok, _, err) = admin_cli(&db, &["system", "show", "--id", "nope"]);
        assert!(!ok && err.contains("no system with id nope"), "{err}");
    }
}

#[tokio::test]
async fn the_portal_reads_systems_rights_and_packages_with_a_persons_token() {
    const PERSON: &str = "01010012356";
    for db in databases().await {
        eprintln!("store: {}", db.name);
        let server = TestServer::start_test_data(&db).await;
        seed_resources(&server).await;
        let input = fullmakt_service::register::NewPerson { person_identifier: PERSON.into(), name: "Kari Nordmann".into(), ..Default::default() };
        let person = fullmakt_service::register::add_person(&server.store, &input, fullmakt_domain::SyntheticNumbers::Refuse).await.unwrap();
        let (ok, token, err) = admin_cli(&db, &["test-token", "person", "--pid", PERSON]);
        assert!(ok, "{err}");
        let portal = token.trim().to_owned();

        let vendor = api_token(&server, VENDOR_ORG, &[WRITE]).await;
        let mut visible = system("visible");
        visible["rights"] = json!([
            {"resource": [{"id": "urn:altinn:resource", "value": APP}]},
            {"resource": [{"id": "urn:altinn:resource", "value": RESOURCE}]}
        ]);
        assert_eq!(create(&server, &vendor, &visible).await.0, 200);
        let mut hidden = system("hidden");
        hidden["isVisible"] = json!(false);
        assert_eq!(create(&server, &vendor, &hidden).await.0, 200);
        assert_eq!(create(&server, &vendor, &system("deleted")).await.0, 200);
        let deleted = system_id("deleted");
        assert_eq!(call(&server, Method::DELETE, &format!("{BASE}/vendor/{deleted}"), Some(&vendor), None).await.0, 200);

        let (status, list) = call(&server, Method::GET, BASE, Some(&portal), None).await;
        assert_eq!(status, 200, "{list}");
        let ids: Vec<&str> = list.as_array().unwrap().iter().map(|d| d["systemId"].as_str().unwrap()).collect();
        assert_eq!(ids, vec![system_id("visible")], "neither hidden nor deleted systems are offered");
        assert_eq!(list[0]["systemVendorOrgNumber"], VENDOR_ORG);
        assert!(list[0].get("clientId").is_none(), "the portal never sees client ids");

        let (status, dto) = call(&server, Method::GET, &format!("{BASE}/{deleted}"), Some(&portal), None).await;
        assert_eq!((status, dto["systemId"].clone()), (200, json!(deleted)), "a deleted system is readable by id");
        assert_problem(&call(&server, Method::GET, &format!("{BASE}/{}", system_id("nope")), Some(&portal), None).await, 404, "no system");

        let visible_id = system_id("visible");
        let (status, rights) = call(&server, Method::GET, &format!("{BASE}/{visible_id}/rights"), Some(&portal), None).await;
        assert_eq!((status, rights[0].clone()), (200, json!({"resource": [{"id": "urn:altinn:resource", "value": APP}]})));
        for query in ["useOldFormatForApp=true", "useoldformatforapp=True"] {
            let (status, rights) = call(&server, Method::GET, &format!("{BASE}/{visible_id}/rights?{query}"), Some(&portal), None).await;
            assert_eq!(status, 200, "{query}");
            assert_eq!(
                rights,
                json!([
                    {"resource": [{"id": "urn:altinn:org", "value": "digdir"}, {"id": "urn:altinn:app", "value": "regnskap"}]},
                    {"resource": [{"id": "urn:altinn:resource", "value": RESOURCE}]}
                ]),
                "{query}"
            );
        }
        let bad = call(&server, Method::GET, &format!("{BASE}/{visible_id}/rights?useOldFormatForApp=yes"), Some(&portal), None).await;
        assert_problem(&bad, 400, "useOldFormatForApp");
        let (status, packages) = call(&server, Method::GET, &format!("{BASE}/{visible_id}/accesspackages"), Some(&portal), None).await;
        assert_eq!((status, packages), (200, json!([{"urn": PACKAGE}])));
        for part in ["rights", "accesspackages"] {
            let (status, body) = call(&server, Method::GET, &format!("{BASE}/{}/{part}", system_id("nope")), Some(&portal), None).await;
            assert_eq!((status, body), (200, json!([])), "{part}: an unknown system has none");
        }

        // The wrong caller: none, an organisation's token, an expired person token, a person
        // token without the portal scope.
        let now = now();
        let claims = |scope: &str, exp: i64| {
            json!({"urn:altinn:userid": person.party_id.to_string(), "urn:altinn:party:uuid": person.party_uuid,
                "urn:altinn:partyid": person.party_id, "urn:altinn:authlevel": 3, "pid": PERSON,
                "scope": scope, "nbf": now - 100, "exp": exp, "iat": now - 100, "iss": server.altinn_issuer()})
        };
        let expired = sign_as_server(&db, &json!({"alg": "RS256", "typ": "JWT"}), &claims("altinn:portal/enduser", now - 60)).await;
        let unscoped = sign_as_server(&db, &json!({"alg": "RS256", "typ": "JWT"}), &claims("altinn:instances.read", now + 600)).await;
        for path in [BASE.to_owned(), format!("{BASE}/{visible_id}"), format!("{BASE}/{visible_id}/rights"), format!("{BASE}/{visible_id}/accesspackages")] {
            assert_problem(&call(&server, Method::GET, &path, None, None).await, 401, "a person's Altinn token is required");
            assert_problem(&call(&server, Method::GET, &path, Some(&vendor), None).await, 401, "an organisation's token cannot be used here");
            assert_problem(&call(&server, Method::GET, &path, Some(&expired), None).await, 401, "expired");
            assert_problem(&call(&server, Method::GET, &path, Some(&unscoped), None).await, 403, "altinn:portal/enduser");
            let cookie = format!("AltinnStudioRuntime={portal}");
            let (status, _, _) = request(&server, Method::GET, &path, None, None, &[("cookie", &cookie)]).await;
            assert_eq!(status, 200, "{path}: the portal's cookie works as well");
        }
        server.stop().await;
    }
}
