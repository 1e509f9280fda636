//! A system user's details and its deletion (with a confirmation step), and creating a standard
//! system user for a visible system (choose it, see what it gets, create).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use fullmakt_service::access_management::Gate;
use fullmakt_service::requests::UserType;
use fullmakt_service::system_register::{find_live_system, find_system, visible_systems};
use maud::html;
use serde::Deserialize;

use super::describe::{grants, localized, resources, summary_card, vendor_name, Summary};
use super::layout::{action_form, alert, date, failure_page, render, Page};
use super::visit::{parse_query, Visit};
use super::BASE;
use crate::html::query_value;
use crate::AppState;

/// What a standard system user holds now, in words (an agent's page is its clients).
#[utoipa::path(get, path = "/accessmanagement/ui/systemuser/{id}", tag = "portal", params(("id" = String, Path)),
    responses((status = 200, description = "HTML: the system user's packages and rights"), (status = 303, description = "To login or the party picker; an agent system user: to its clients page"), (status = 403, description = "No access for the acting party"), (status = 404, description = "No such system user")))]
pub(crate) async fn details(State(state): State<AppState>, headers: HeaderMap, uri: Uri, Path(id): Path<String>) -> Response {
    let (visit, party) = match Visit::begin_acting(&state, &headers, &uri).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let t = visit.t;
    let view = match super::approvals(&state).system_user_of(&visit.person, party.party_id, &id).await {
        Ok(v) => v,
        Err(e) => return failure_page(&visit, &e),
    };
    // An agent's page is its clients.
    if view.row.user_type == UserType::Agent.as_str() {
        return visit.redirect(&format!("{BASE}/systemuser/{}/agentdelegation", query_value(&view.row.id)));
    }
    let system = find_system(&state.store, &view.row.system_id).await.ok().flatten();
    let system_name = system.as_ref().map(|s| localized(&s.name, visit.language)).unwrap_or_else(|| view.row.system_id.clone());
    let vendor = vendor_name(&state.store, &view.vendor_orgno).await;
    let words = resources(&state.store, visit.language, &view.rights).await;
    let may_delete = state.gates.permits(visit.person.party_id, party.party_id, Gate::AccessManagementWrite).await;
    let created = super::visit::query_param(&uri, "created").is_some();
    let body = html! {
        @if created { (alert("success", None, html! { p.ds-paragraph { (t.created_banner) } })) }
        (summary_card(t, &Summary {
            system_name: &system_name,
            vendor: &vendor,
            vendor_orgno: &view.vendor_orgno,
            party_name: &party.name,
            party_org_no: Some(&view.row.owner_org_no),
            reference: (view.row.external_ref != view.row.owner_org_no).then_some(view.row.external_ref.as_str()),
            description: None,
        }))
        (grants(t, state.catalogue, visit.language, &view.access_packages, &words))
        p.ds-paragraph data-size="sm" .ds-muted { ((t.details_created)(&date(view.row.created))) }
        div.ds-button-group {
            @if may_delete {
                a.ds-button data-variant="secondary" data-color="danger" href={ (BASE) "/systemuser/" (query_value(&view.row.id)) "/delete" } { (t.delete_button) }
            }
            a.ds-button data-variant="tertiary" href={ (BASE) "/systemuser/overview" } { (t.back_to_overview) }
        }
    };
    render(&visit, StatusCode::OK, Page { title: &view.row.integration_title, acting: Some(&party), body, form_targets: vec![] })
}

/// The confirmation step: what deleting means, and the button that does it.
#[utoipa::path(get, path = "/accessmanagement/ui/systemuser/{id}/delete", tag = "portal", params(("id" = String, Path)),
    responses((status = 200, description = "HTML: the confirmation step"), (status = 303, description = "An agent system user: to its own confirmation step"), (status = 404, description = "No such system user")))]
pub(crate) async fn delete_page(State(state): State<AppState>, headers: HeaderMap, uri: Uri, Path(id): Path<String>) -> Response {
    let (visit, party) = match Visit::begin_acting(&state, &headers, &uri).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let t = visit.t;
    let view = match super::approvals(&state).system_user_of(&visit.person, party.party_id, &id).await {
        Ok(v) => v,
        Err(e) => return failure_page(&visit, &e),
    };
    if view.row.user_type == UserType::Agent.as_str() {
        return visit.redirect(&format!("{BASE}/systemuser/{}/agentdelegation/delete", query_value(&view.row.id)));
    }
    let system_name = match find_system(&state.store, &view.row.system_id).await {
        Ok(Some(s)) => localized(&s.name, visit.language),
        _ => view.row.system_id.clone(),
    };
    let details = format!("{BASE}/systemuser/{}", query_value(&view.row.id));
    let body = html! {
        (alert("warning", Some(t.delete_confirm_title), html! {
            p.ds-paragraph { ((t.delete_confirm_text)(&system_name)) }
        }))
        (action_form(&visit, &format!("{details}/delete"), &[], html! {
            button.ds-button type="submit" data-variant="primary" data-color="danger" { (t.delete_button) }
            a.ds-button data-variant="secondary" href=(details) { (t.cancel) }
        }))
    };
    render(&visit, StatusCode::OK, Page { title: &view.row.integration_title, acting: Some(&party), body, form_targets: vec![] })
}

#[utoipa::path(post, path = "/accessmanagement/ui/systemuser/{id}/delete", tag = "portal", params(("id" = String, Path)), request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "csrf"),
    responses((status = 303, description = "To the overview"), (status = 403, description = "No session, forged form, or not an access manager"), (status = 404, description = "No such system user")))]
pub(crate) async fn delete(State(state): State<AppState>, headers: HeaderMap, uri: Uri, Path(id): Path<String>, body: String) -> Response {
    let (visit, party) = match Visit::begin_form_acting(&state, &headers, &uri, &body).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    match super::approvals(&state).delete_standard(&visit.person, party.party_id, &id).await {
        Ok(true) => visit.redirect(&format!("{BASE}/systemuser/overview?deleted=true")),
        Ok(false) => visit.error(StatusCode::NOT_FOUND, visit.t.err_system_user_not_found),
        Err(e) => failure_page(&visit, &e),
    }
}

#[derive(Deserialize)]
pub(crate) struct CreateQuery {
    #[serde(default)]
    system: Option<String>,
}

/// Step 1 (no `system`): choose among the visible systems. Step 2: what the chosen system gets,
/// and the button that creates the system user.
#[utoipa::path(get, path = "/accessmanagement/ui/systemuser/create", tag = "portal", params(("system" = Option<String>, Query, description = "The chosen system (step 2)")),
    responses((status = 200, description = "HTML: the visible systems, or what the chosen one gets"), (status = 403, description = "HTML: the person may not create system users"), (status = 404, description = "No such visible system")))]
pub(crate) async fn create_page(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    let (visit, party) = match Visit::begin_acting(&state, &headers, &uri).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let t = visit.t;
    let Some(query) = parse_query::<CreateQuery>(&uri) else {
        return visit.error(StatusCode::BAD_REQUEST, t.err_bad_input);
    };
    let may_create = party.party_type == "organization" && state.gates.permits(visit.person.party_id, party.party_id, Gate::AccessManagementWrite).await;
    if !may_create {
        let body = html! { (alert("warning", None, html! { p.ds-paragraph { (t.no_key_role) } })) };
        return render(&visit, StatusCode::FORBIDDEN, Page { title: t.create_title, acting: Some(&party), body, form_targets: vec![] });
    }
    let chosen = query.system.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let body = match chosen {
        None => {
            let systems = match visible_systems(&state.store).await {
                Ok(s) => s,
                Err(e) => return failure_page(&visit, &e),
            };
            html! {
                p.ds-lead { (t.create_intro) }
                @if systems.is_empty() {
                    (alert("info", None, html! { p.ds-paragraph { (t.no_systems) } }))
                } @else {
                    form method="get" action={ (BASE) "/systemuser/create" } {
                        div.ds-field {
                            label.ds-label for="system" { (t.choose_system) }
                            select.ds-select #system name="system" required {
                                @for s in &systems {
                                    option value=(s.system_id) { (localized(&s.name, visit.language)) " – " (s.system_vendor_org_number) }
                                }
                            }
                        }
                        div.ds-button-group { button.ds-button type="submit" data-variant="primary" { (t.continue_button) } }
                    }
                }
            }
        }
        Some(system_id) => {
            let system = match find_live_system(&state.store, system_id).await {
                Ok(Some(s)) if s.is_visible => s,
                Ok(_) => {
                    let body = html! {
                        (alert("danger", None, html! { p.ds-paragraph { (t.choose_system_error) } }))
                        p.ds-paragraph { a.ds-link href={ (BASE) "/systemuser/create" } { (t.choose_another_system) } }
                    };
                    return render(&visit, StatusCode::NOT_FOUND, Page { title: t.create_title, acting: Some(&party), body, form_targets: vec![] });
                }
                Err(e) => return failure_page(&visit, &e),
            };
            let name = localized(&system.name, visit.language);
            let vendor = vendor_name(&state.store, &system.vendor_orgno).await;
            let words = resources(&state.store, visit.language, &system.rights).await;
            html! {
                (summary_card(t, &Summary {
                    system_name: &name,
                    vendor: &vendor,
                    vendor_orgno: &system.vendor_orgno,
                    party_name: &party.name,
                    party_org_no: None,
                    reference: None,
                    description: Some(localized(&system.description, visit.language)),
                }))
                h2.ds-heading data-size="md" { ((t.create_gets)(&name)) }
                (grants(t, state.catalogue, visit.language, &system.access_packages, &words))
                (action_form(&visit, &format!("{BASE}/systemuser/create"), &[("system", system.system_id.as_str())], html! {
                    button.ds-button type="submit" data-variant="primary" { (t.create_confirm) }
                    a.ds-button data-variant="secondary" href={ (BASE) "/systemuser/create" } { (t.choose_another_system) }
                }))
            }
        }
    };
    render(&visit, StatusCode::OK, Page { title: t.create_title, acting: Some(&party), body, form_targets: vec![] })
}

#[derive(Deserialize)]
pub(crate) struct CreateForm {
    system: String,
}

#[utoipa::path(post, path = "/accessmanagement/ui/systemuser/create", tag = "portal", request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "csrf, system"),
    responses((status = 303, description = "To the new system user's page"), (status = 400, description = "Malformed form, or the system user exists"), (status = 403, description = "No session, forged form, or no authority")))]
pub(crate) async fn create(State(state): State<AppState>, headers: HeaderMap, uri: Uri, body: String) -> Response {
    let form: Option<CreateForm> = serde_urlencoded::from_str(&body).ok();
    let visit = match Visit::begin_form(&state, &headers, &uri, &body).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(form) = form else {
        return visit.error(StatusCode::BAD_REQUEST, visit.t.err_bad_input);
    };
    let party = match visit.require_party(&state).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    match super::approvals(&state).create_directly(&visit.person, party.party_id, &form.system, None).await {
        Ok(created) => visit.redirect(&format!("{BASE}/systemuser/{}?created=true", query_value(&created.row.id))),
        Err(e) => failure_page(&visit, &e),
    }
}
