//! The portal's sessions and the parties a person may act for, without HTTP, on SQLite and (with
//! FULLMAKT_TEST_POSTGRES_URL) PostgreSQL.

mod common;

use common::{execute, stores_with_urls};
use fullmakt_domain::{Catalogue, SyntheticNumbers};
use fullmakt_service::clock;
use fullmakt_service::grants::{grant_package, Recipient};
use fullmakt_service::portal::{authorised_parties, PortalSessions, ABSOLUTE_LIFETIME, IDLE_TIMEOUT};
use fullmakt_service::register::{add_organisation, add_person, add_role, NewOrganisation, NewPerson, NewRole, RoleHolder};
use fullmakt_store::PartyKey;

#[tokio::test]
async fn sessions_expire_when_idle_and_at_their_absolute_end_and_logout_ends_them() {
    for (store, url, _dir) in stores_with_urls().await {
        let sessions = PortalSessions::new(store.clone());
        let (secret, session) = sessions.start(42, None).await.unwrap();
        assert_eq!(session.person_party_id, 42);
        assert!(session.csrf_matches(session.csrf_token()));
        assert!(!session.csrf_matches("") && !session.csrf_matches(&secret), "the cookie is not the form token");
        let found = sessions.find(&secret).await.unwrap().expect("a fresh session");
        assert_eq!(found.session_hash, session.session_hash);
        assert_eq!(sessions.find("not-a-secret").await.unwrap(), None);
        assert_eq!(sessions.find(&"A".repeat(43)).await.unwrap(), None);

        // The acting party is kept.
        assert!(sessions.act_for(&found, 7).await.unwrap());
        assert_eq!(sessions.find(&secret).await.unwrap().unwrap().acting_party_id, Some(7));

        // Use moves the idle timeout forward…
        let now = clock::now();
        execute(&url, &format!("UPDATE portal_sessions SET expires_at = {} WHERE session_hash = '{}'", now + 100, session.session_hash)).await;
        let moved = sessions.find(&secret).await.unwrap().unwrap();
        assert!(moved.expires_at >= now + IDLE_TIMEOUT, "{} < {}", moved.expires_at, now + IDLE_TIMEOUT);
        // …but never past the absolute lifetime.
        let created = now - ABSOLUTE_LIFETIME + 30;
        execute(&url, &format!("UPDATE portal_sessions SET created_at = {created}, expires_at = {} WHERE session_hash = '{}'", now + 20, session.session_hash)).await;
        let capped = sessions.find(&secret).await.unwrap().unwrap();
        assert!(capped.expires_at <= created + ABSOLUTE_LIFETIME, "{}", capped.expires_at);
        // An expired session is gone.
        execute(&url, &format!("UPDATE portal_sessions SET expires_at = {} WHERE session_hash = '{}'", now - 1, session.session_hash)).await;
        assert_eq!(sessions.find(&secret).await.unwrap(), None);
        assert!(!sessions.act_for(&capped, 8).await.unwrap(), "an expired session takes no writes");
        assert_eq!(store.forget_expired_logins(now, 100).await.unwrap(), 1, "the sweep removes it");

        // Logout ends a live one at once.
        let (secret, session) = sessions.start(42, Some(7)).await.unwrap();
        sessions.end(&session).await.unwrap();
        assert_eq!(sessions.find(&secret).await.unwrap(), None);
    }
}

#[tokio::test]
async fn a_person_may_act_for_organisations_where_they_hold_a_role_or_a_grant() {
    for (store, _url, _dir) in stores_with_urls().await {
        let org = |n: &str, name: &str| NewOrganisation { org_number: n.into(), name: name.into(), unit_type: Some("AS".into()), ..Default::default() };
        add_organisation(&store, &org("310000019", "Bakeri AS")).await.unwrap();
        add_organisation(&store, &org("310000035", "Alfa AS")).await.unwrap();
        add_organisation(&store, &org("310702641", "Ukjent AS")).await.unwrap();
        for pid in ["01010012356", "17054026641"] {
            add_person(&store, &NewPerson { person_identifier: pid.into(), name: pid.into(), ..Default::default() }, SyntheticNumbers::Refuse).await.unwrap();
        }
        let role = NewRole { unit: "310000019".into(), role: "daglig-leder".into(), holder: RoleHolder::Person("01010012356".into()) };
        add_role(&store, &role, SyntheticNumbers::Refuse).await.unwrap();
        let alfa = fullmakt_service::grants::organisation(&store, "310000035").await.unwrap();
        let person = store.find_party(PartyKey::PersonIdentifier("01010012356")).await.unwrap().unwrap();
        grant_package(&store, Catalogue::embedded(), &alfa, &Recipient::Party(person.clone()), "urn:altinn:accesspackage:lonn").await.unwrap();

        let names: Vec<String> = authorised_parties(&store, &person).await.unwrap().into_iter().map(|p| p.name).collect();
        assert_eq!(names, ["Alfa AS", "Bakeri AS"], "by name; never an organisation they have nothing in");
        let nobody = store.find_party(PartyKey::PersonIdentifier("17054026641")).await.unwrap().unwrap();
        assert!(authorised_parties(&store, &nobody).await.unwrap().is_empty());
    }
}
