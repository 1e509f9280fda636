//! Choosing the party to act for, logout, and the page after it.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use fullmakt_service::portal::authorised_parties;
use maud::html;
use serde::Deserialize;

use super::layout::{alert, bare, render, Page};
use super::texts::texts;
use super::visit::{internal, language_of, query_param, Visit};
use super::BASE;
use crate::AppState;

/// Where the browser may be sent after choosing: a portal page, never another site.
fn portal_path(goto: Option<&str>) -> String {
    match goto {
        Some(g) if g.starts_with(&format!("{BASE}/")) && !g.contains("//") && !g.contains('\\') => g.to_owned(),
        _ => format!("{BASE}/systemuser/overview"),
    }
}

#[utoipa::path(get, path = "/accessmanagement/ui/party", tag = "portal", params(("goto" = Option<String>, Query, description = "A portal path to return to")),
    responses((status = 200, description = "HTML: the organisations the person may act for"), (status = 303, description = "To login")))]
pub(crate) async fn choose_page(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    let visit = match Visit::begin(&state, &headers, &uri).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let t = visit.t;
    let parties = match authorised_parties(&state.store, &visit.person).await {
        Ok(p) => p,
        Err(e) => return visit.finish(internal(visit.language, e)),
    };
    let goto = portal_path(query_param(&uri, "goto").as_deref());
    let acting = match visit.session.acting_party_id {
        Some(id) => parties.iter().find(|p| p.party_id == id),
        None => None,
    };
    let body = html! {
        @if parties.is_empty() {
            (alert("info", None, html! { p.ds-paragraph { (t.party_none) } }))
        } @else {
            form method="post" action={ (BASE) "/party" } {
                input type="hidden" name="csrf" value=(visit.session.csrf_token());
                input type="hidden" name="goto" value=(goto);
                fieldset.ds-fieldset {
                    legend { (t.party_intro) }
                    @for (i, p) in parties.iter().enumerate() {
                        @let checked = acting.map_or(i == 0, |a| a.party_id == p.party_id);
                        label.ds-radio {
                            input type="radio" name="party" value=(p.party_id) checked[checked];
                            span { (p.name) @if let Some(org) = &p.org_number { " (" (t.org_no) " " (org) ")" } }
                        }
                    }
                }
                div.ds-button-group { button.ds-button type="submit" data-variant="primary" { (t.choose_button) } }
            }
        }
    };
    render(&visit, StatusCode::OK, Page { title: t.party_title, acting, body, form_targets: vec![] })
}

#[derive(Deserialize)]
pub(crate) struct ChooseForm {
    party: i64,
    #[serde(default)]
    goto: Option<String>,
}

#[utoipa::path(post, path = "/accessmanagement/ui/party", tag = "portal", request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "csrf, party, goto"),
    responses((status = 303, description = "To goto (a portal path)"), (status = 400, description = "Malformed form"), (status = 403, description = "Not a party of the person's, or a forged form")))]
pub(crate) async fn choose(State(state): State<AppState>, headers: HeaderMap, uri: Uri, body: String) -> Response {
    let form: Option<ChooseForm> = serde_urlencoded::from_str(&body).ok();
    let mut visit = match Visit::begin_form(&state, &headers, &uri, &body).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(form) = form else {
        return visit.error(StatusCode::BAD_REQUEST, visit.t.err_bad_input);
    };
    let parties = match authorised_parties(&state.store, &visit.person).await {
        Ok(p) => p,
        Err(e) => return visit.finish(internal(visit.language, e)),
    };
    let Some(party) = parties.into_iter().find(|p| p.party_id == form.party) else {
        return visit.error(StatusCode::FORBIDDEN, visit.t.err_forbidden);
    };
    if let Err(r) = visit.act_for(&state, &party).await {
        return r;
    }
    visit.redirect(&portal_path(form.goto.as_deref()))
}

/// Ends the session server-side and clears the cookies. A logout without a session (or with a
/// stale form) still clears the browser's cookies.
#[utoipa::path(post, path = "/accessmanagement/ui/logout", tag = "portal", request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "csrf"),
    responses((status = 303, description = "Session ended server-side, cookies cleared; to the logged-out page"), (status = 403, description = "No session or a forged form")))]
pub(crate) async fn logout(State(state): State<AppState>, headers: HeaderMap, uri: Uri, body: String) -> Response {
    match Visit::begin_form(&state, &headers, &uri, &body).await {
        Ok(mut visit) => {
            visit.end(&state).await;
            visit.redirect(&format!("{BASE}/loggedout"))
        }
        Err(r) => r,
    }
}

#[utoipa::path(get, path = "/accessmanagement/ui/loggedout", tag = "portal", responses((status = 200, description = "HTML")))]
pub(crate) async fn logged_out(headers: HeaderMap, uri: Uri) -> Response {
    let (language, _) = language_of(&headers, &uri);
    let t = texts(language);
    let body = html! {
        p.ds-paragraph { (t.logged_out_text) }
        p.ds-paragraph { a.ds-button data-variant="primary" href={ (BASE) "/systemuser/overview" } { (t.log_in_again) } }
    };
    bare(language, StatusCode::OK, t.logged_out_title, body)
}
