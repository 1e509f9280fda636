//! The request pages a vendor's `confirmUrl` opens: a standard request, an agent request and a
//! change request, each with approve and reject, and escalation for a person who belongs to the
//! organisation but may not approve.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use fullmakt_service::change_requests::PartyChangeRequestView;
use fullmakt_service::requests::{PartyRequestView, UserType};
use fullmakt_service::system_register::find_system;
use fullmakt_store::PartyRow;
use maud::html;
use serde::Deserialize;

use super::describe::{grants, localized, package_list, resource_list, resources, summary_card, vendor_name, Summary};
use super::layout::{action_form, alert, failure_page, render, Page};
use super::visit::{parse_query, Visit};
use super::{approvals, BASE};
use crate::AppState;

#[derive(Deserialize)]
pub(crate) struct RequestQuery {
    id: String,
    #[serde(rename = "DONTCHOOSEREPORTEE", default)]
    dont_choose_reportee: Option<String>,
    #[serde(default)]
    skiplogout: Option<String>,
    /// Set after this person escalated the request, to say so.
    #[serde(default)]
    escalated: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct RequestForm {
    id: String,
    action: String,
    #[serde(default)]
    skiplogout: Option<String>,
}

fn page_path(kind: UserType) -> &'static str {
    match kind {
        UserType::Standard => "request",
        UserType::Agent => "agentrequest",
    }
}

fn is_true(value: &Option<String>) -> bool {
    value.as_deref().is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

/// The origin of a vendor's redirect URL (for the page's form-action).
fn origin_of(url: &str) -> Option<String> {
    url::Url::parse(url).ok().map(|u| u.origin().ascii_serialization()).filter(|o| o != "null")
}

/// The request's organisation as the acting party. From a vendor's confirm link
/// (`DONTCHOOSEREPORTEE=true`) it becomes the acting party; otherwise the person must already act
/// for it, or they are told the request does not exist for the chosen actor.
async fn act_for_request(state: &AppState, visit: &mut Visit, party: &PartyRow, dont_choose_reportee: bool) -> Result<(), Response> {
    if dont_choose_reportee {
        return visit.act_for(state, party).await;
    }
    match visit.require_party(state).await? {
        p if p.party_id == party.party_id => Ok(()),
        _ => Err(visit.error(StatusCode::NOT_FOUND, visit.t.err_request_not_found)),
    }
}

/// Where the browser goes after an answer: to the overview when the person came from it
/// (`skiplogout`), else — logged out, as in Altinn — to the vendor's redirect URL when there is
/// one, else `back` to the request, which shows the outcome.
async fn after_answer(state: &AppState, visit: &mut Visit, skip_logout: bool, redirect_url: Option<&str>, back: &str) -> Response {
    if skip_logout {
        return visit.redirect(&format!("{BASE}/systemuser/overview"));
    }
    if let Some(url) = redirect_url {
        visit.end(state).await;
        return visit.redirect(url);
    }
    visit.redirect(back)
}

#[utoipa::path(get, path = "/accessmanagement/ui/systemuser/request", tag = "portal", params(("id" = String, Query), ("DONTCHOOSEREPORTEE" = Option<bool>, Query), ("skiplogout" = Option<bool>, Query)),
    responses((status = 200, description = "HTML: the request in words, with approve and reject, or escalation"), (status = 303, description = "To login"), (status = 400, description = "No id"), (status = 403, description = "No relation to the request's organisation"), (status = 404, description = "No such request (for the chosen actor)")))]
pub(crate) async fn standard_page(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    request_page(&state, &headers, &uri, UserType::Standard).await
}

#[utoipa::path(get, path = "/accessmanagement/ui/systemuser/agentrequest", tag = "portal", params(("id" = String, Query), ("DONTCHOOSEREPORTEE" = Option<bool>, Query), ("skiplogout" = Option<bool>, Query)),
    responses((status = 200, description = "HTML: the agent request"), (status = 303, description = "To login"), (status = 403, description = "No relation"), (status = 404, description = "No such request")))]
pub(crate) async fn agent_page(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    request_page(&state, &headers, &uri, UserType::Agent).await
}

/// The request by id, for its own organisation ([`act_for_request`]).
async fn request_page(state: &AppState, headers: &HeaderMap, uri: &Uri, kind: UserType) -> Response {
    let mut visit = match Visit::begin(state, headers, uri).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(query) = parse_query::<RequestQuery>(uri) else {
        return visit.error(StatusCode::BAD_REQUEST, visit.t.err_bad_input);
    };
    let view = match approvals(state).get_by_id(&visit.person, kind, &query.id).await {
        Ok(v) => v,
        Err(e) => return failure_page(&visit, &e),
    };
    if let Err(r) = act_for_request(state, &mut visit, &view.party, is_true(&query.dont_choose_reportee)).await {
        return r;
    }
    show_request(state, &visit, kind, &view, is_true(&query.skiplogout), is_true(&query.escalated), None).await
}

async fn show_request(
    state: &AppState,
    visit: &Visit,
    kind: UserType,
    view: &PartyRequestView,
    skip_logout: bool,
    just_escalated: bool,
    failure: Option<String>,
) -> Response {
    let t = visit.t;
    let language = visit.language;
    let request = &view.request;
    let system = match find_system(&state.store, &request.system_id).await {
        Ok(Some(s)) => s,
        Ok(None) => return visit.error(StatusCode::NOT_FOUND, t.err_request_not_found),
        Err(e) => return failure_page(visit, &e),
    };
    let vendor = vendor_name(&state.store, &system.vendor_orgno).await;
    let system_name = localized(&system.name, language);
    let words = resources(&state.store, language, &request.rights).await;
    let open = request.status == "New";
    let all_assignable = request
        .access_packages
        .iter()
        .all(|p| state.catalogue.package_by_urn(&p.urn).is_some_and(|p| p.is_assignable));
    let action = format!("{BASE}/systemuser/{}", page_path(kind));
    let mut hidden = vec![("id", request.id.as_str())];
    if skip_logout {
        hidden.push(("skiplogout", "true"));
    }
    let (title, intro) = match kind {
        UserType::Standard => (t.request_title, (t.request_intro)(&vendor)),
        UserType::Agent => (t.agent_title, (t.agent_intro)(&vendor, &view.party.name)),
    };
    let body = html! {
        @if let Some(message) = &failure { (alert("danger", None, html! { p.ds-paragraph { (message) } })) }
        @match request.status.as_str() {
            "Accepted" => (alert("success", None, html! { p.ds-paragraph { (t.status_accepted) } })),
            "Rejected" => (alert("info", None, html! { p.ds-paragraph { (t.status_rejected) } })),
            "Timedout" => (alert("warning", None, html! { p.ds-paragraph { (t.status_timedout) } })),
            _ => {}
        }
        p.ds-lead { (intro) }
        (summary_card(t, &Summary {
            system_name: &system_name,
            vendor: &vendor,
            vendor_orgno: &system.vendor_orgno,
            party_name: &view.party.name,
            party_org_no: Some(&request.party_org_no),
            reference: None,
            description: Some(localized(&system.description, language)),
        }))
        @match kind {
            UserType::Standard => (grants(t, state.catalogue, language, &request.access_packages, &words)),
            UserType::Agent => {
                section.ds-stack aria-labelledby="packages-heading" {
                    h2 #packages-heading .ds-heading data-size="sm" { (t.packages_heading) }
                    (package_list(state.catalogue, language, &request.access_packages))
                }
                @if all_assignable && !request.access_packages.is_empty() { p.ds-paragraph { (t.agent_self_hint) } }
            }
        }
        @if open {
            @if view.may_escalate_but_not_approve {
                @if just_escalated {
                    (alert("success", Some(t.escalated_heading), html! { p.ds-paragraph { (t.escalated_text) } }))
                } @else if request.escalated {
                    (alert("info", None, html! { p.ds-paragraph { (t.already_escalated) } }))
                } @else {
                    (alert("warning", Some(t.escalate_heading), html! {
                        p.ds-paragraph { (t.escalate_text) }
                        (action_form(visit, &action, &hidden, html! {
                            button.ds-button type="submit" name="action" value="escalate" data-variant="primary" { (t.escalate_button) }
                        }))
                        form method="post" action={ (BASE) "/logout" } {
                            input type="hidden" name="csrf" value=(visit.session.csrf_token());
                            button.ds-button type="submit" data-variant="secondary" { (t.close_and_logout) }
                        }
                    }))
                }
            } @else {
                p.ds-paragraph data-size="sm" { (t.withdraw_note) }
                (action_form(visit, &action, &hidden, html! {
                    button.ds-button type="submit" name="action" value="approve" data-variant="primary" { (t.approve_button) }
                    button.ds-button type="submit" name="action" value="reject" data-variant="secondary" { (t.reject_button) }
                }))
            }
        } @else {
            p.ds-paragraph { a.ds-link href={ (BASE) "/systemuser/overview" } { (t.back_to_overview) } }
        }
        hr.ds-divider;
        p.ds-paragraph data-size="sm" { ((t.delivered_by)(&system_name, &vendor, &system.vendor_orgno)) }
    };
    let form_targets = request.redirect_url.as_deref().and_then(origin_of).into_iter().collect();
    let status = if failure.is_some() { StatusCode::CONFLICT } else { StatusCode::OK };
    render(visit, status, Page { title, acting: Some(&view.party), body, form_targets })
}

#[utoipa::path(post, path = "/accessmanagement/ui/systemuser/request", tag = "portal", request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "csrf, id, action=approve|reject|escalate, skiplogout"),
    responses((status = 303, description = "To the vendor's redirect URL (logged out), the overview, or back to the request"), (status = 400, description = "Malformed form"), (status = 403, description = "No session, wrong anti-forgery token or origin"), (status = 409, description = "HTML: the refusal, on the request page")))]
pub(crate) async fn standard_action(State(state): State<AppState>, headers: HeaderMap, uri: Uri, body: String) -> Response {
    request_action(&state, &headers, &uri, &body, UserType::Standard).await
}

#[utoipa::path(post, path = "/accessmanagement/ui/systemuser/agentrequest", tag = "portal", request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "csrf, id, action=approve|reject|escalate, skiplogout"),
    responses((status = 303, description = "As for standard requests"), (status = 400, description = "Malformed form"), (status = 403, description = "No session or forged form"), (status = 409, description = "HTML: the refusal")))]
pub(crate) async fn agent_action(State(state): State<AppState>, headers: HeaderMap, uri: Uri, body: String) -> Response {
    request_action(&state, &headers, &uri, &body, UserType::Agent).await
}

/// Approve, reject or escalate; then on as [`after_answer`] says (escalation returns to the
/// request).
async fn request_action(state: &AppState, headers: &HeaderMap, uri: &Uri, body: &str, kind: UserType) -> Response {
    let form: Option<RequestForm> = serde_urlencoded::from_str(body).ok();
    let mut visit = match Visit::begin_form(state, headers, uri, body).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(form) = form else {
        return visit.error(StatusCode::BAD_REQUEST, visit.t.err_bad_input);
    };
    let approvals = approvals(state);
    let view = match approvals.get_by_id(&visit.person, kind, &form.id).await {
        Ok(v) => v,
        Err(e) => return failure_page(&visit, &e),
    };
    let party_id = view.party.party_id;
    let outcome = match form.action.as_str() {
        "approve" => approvals.approve(&visit.person, party_id, kind, &form.id).await,
        "reject" => approvals.reject(&visit.person, party_id, kind, &form.id).await,
        "escalate" => approvals.escalate(&visit.person, party_id, kind, &form.id).await.map(|_| ()),
        _ => return visit.error(StatusCode::BAD_REQUEST, visit.t.err_bad_input),
    };
    let skip_logout = is_true(&form.skiplogout);
    if let Err(e) = outcome {
        let (_, message) = super::layout::failure(visit.t, &e);
        return show_request(state, &visit, kind, &view, skip_logout, false, Some(message)).await;
    }
    let here = format!("{BASE}/systemuser/{}?id={}", page_path(kind), crate::html::query_value(&form.id));
    if form.action == "escalate" {
        return visit.redirect(&format!("{here}&escalated=true"));
    }
    after_answer(state, &mut visit, skip_logout, view.request.redirect_url.as_deref(), &here).await
}

// ---------------------------------------------------------------------------------------------
// Change requests

#[utoipa::path(get, path = "/accessmanagement/ui/systemuser/changerequest", tag = "portal", params(("id" = String, Query), ("DONTCHOOSEREPORTEE" = Option<bool>, Query)),
    responses((status = 200, description = "HTML: what is added and what is removed"), (status = 303, description = "To login"), (status = 403, description = "Not an access manager of the organisation"), (status = 404, description = "No such change request")))]
pub(crate) async fn change_page(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    let mut visit = match Visit::begin(&state, &headers, &uri).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(query) = parse_query::<RequestQuery>(&uri) else {
        return visit.error(StatusCode::BAD_REQUEST, visit.t.err_bad_input);
    };
    let view = match approvals(&state).change_request_by_id(&visit.person, &query.id).await {
        Ok(v) => v,
        Err(e) => return failure_page(&visit, &e),
    };
    if let Err(r) = act_for_request(&state, &mut visit, &view.party, is_true(&query.dont_choose_reportee)).await {
        return r;
    }
    show_change(&state, &visit, &view, is_true(&query.skiplogout), None).await
}

async fn show_change(state: &AppState, visit: &Visit, view: &PartyChangeRequestView, skip_logout: bool, failure: Option<String>) -> Response {
    let t = visit.t;
    let language = visit.language;
    let change = &view.change;
    let system = match find_system(&state.store, &change.system_id).await {
        Ok(Some(s)) => s,
        Ok(None) => return visit.error(StatusCode::NOT_FOUND, t.err_request_not_found),
        Err(e) => return failure_page(visit, &e),
    };
    let vendor = vendor_name(&state.store, &system.vendor_orgno).await;
    let system_name = localized(&system.name, language);
    let add_resources = resources(&state.store, language, &change.required_rights).await;
    let remove_resources = resources(&state.store, language, &change.unwanted_rights).await;
    let action = format!("{BASE}/systemuser/changerequest");
    let mut hidden = vec![("id", change.id.as_str())];
    if skip_logout {
        hidden.push(("skiplogout", "true"));
    }
    let body = html! {
        @if let Some(message) = &failure { (alert("danger", None, html! { p.ds-paragraph { (message) } })) }
        @match change.status.as_str() {
            "Accepted" => (alert("success", None, html! { p.ds-paragraph { (t.change_accepted) } })),
            "Rejected" => (alert("info", None, html! { p.ds-paragraph { (t.change_rejected) } })),
            "Timedout" => (alert("warning", None, html! { p.ds-paragraph { (t.status_timedout) } })),
            _ => {}
        }
        p.ds-lead { ((t.change_intro)(&vendor)) }
        (summary_card(t, &Summary {
            system_name: &system_name,
            vendor: &vendor,
            vendor_orgno: &system.vendor_orgno,
            party_name: &view.party.name,
            party_org_no: Some(&change.party_org_no),
            reference: None,
            description: None,
        }))
        @if !change.required_access_packages.is_empty() || !add_resources.is_empty() {
            section.ds-stack aria-labelledby="add-heading" {
                h2 #add-heading .ds-heading data-size="sm" { (t.to_add) }
                @if !change.required_access_packages.is_empty() { (package_list(state.catalogue, language, &change.required_access_packages)) }
                @if !add_resources.is_empty() { (resource_list(&add_resources)) }
            }
        }
        @if !change.unwanted_access_packages.is_empty() || !remove_resources.is_empty() {
            section.ds-stack aria-labelledby="remove-heading" {
                h2 #remove-heading .ds-heading data-size="sm" { (t.to_remove) }
                @if !change.unwanted_access_packages.is_empty() { (package_list(state.catalogue, language, &change.unwanted_access_packages)) }
                @if !remove_resources.is_empty() { (resource_list(&remove_resources)) }
            }
        }
        @if change.status == "New" {
            (action_form(visit, &action, &hidden, html! {
                button.ds-button type="submit" name="action" value="approve" data-variant="primary" { (t.approve_change_button) }
                button.ds-button type="submit" name="action" value="reject" data-variant="secondary" { (t.reject_button) }
            }))
        } @else {
            p.ds-paragraph { a.ds-link href={ (BASE) "/systemuser/overview" } { (t.back_to_overview) } }
        }
        hr.ds-divider;
        p.ds-paragraph data-size="sm" { ((t.delivered_by)(&system_name, &vendor, &system.vendor_orgno)) }
    };
    let form_targets = change.redirect_url.as_deref().and_then(origin_of).into_iter().collect();
    let status = if failure.is_some() { StatusCode::CONFLICT } else { StatusCode::OK };
    render(visit, status, Page { title: t.change_title, acting: Some(&view.party), body, form_targets })
}

#[utoipa::path(post, path = "/accessmanagement/ui/systemuser/changerequest", tag = "portal", request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "csrf, id, action=approve|reject, skiplogout"),
    responses((status = 303, description = "To the vendor's redirect URL (logged out), the overview, or back"), (status = 400, description = "Malformed form"), (status = 403, description = "No session or forged form"), (status = 409, description = "HTML: the refusal")))]
pub(crate) async fn change_action(State(state): State<AppState>, headers: HeaderMap, uri: Uri, body: String) -> Response {
    let form: Option<RequestForm> = serde_urlencoded::from_str(&body).ok();
    let mut visit = match Visit::begin_form(&state, &headers, &uri, &body).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(form) = form else {
        return visit.error(StatusCode::BAD_REQUEST, visit.t.err_bad_input);
    };
    let approvals = approvals(&state);
    let view = match approvals.change_request_by_id(&visit.person, &form.id).await {
        Ok(v) => v,
        Err(e) => return failure_page(&visit, &e),
    };
    let party_id = view.party.party_id;
    let outcome = match form.action.as_str() {
        "approve" => approvals.approve_change(&visit.person, party_id, &form.id).await,
        "reject" => approvals.reject_change(&visit.person, party_id, &form.id).await,
        _ => return visit.error(StatusCode::BAD_REQUEST, visit.t.err_bad_input),
    };
    let skip_logout = is_true(&form.skiplogout);
    if let Err(e) = outcome {
        let (_, message) = super::layout::failure(visit.t, &e);
        return show_change(&state, &visit, &view, skip_logout, Some(message)).await;
    }
    let back = format!("{BASE}/systemuser/changerequest?id={}", crate::html::query_value(&form.id));
    after_answer(&state, &mut visit, skip_logout, view.change.redirect_url.as_deref(), &back).await
}
