//! The overview: escalated requests waiting for the party, its own system users and its agent
//! system users, each list shown to whoever the gates let see it.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use fullmakt_service::access_management::Gate;
use fullmakt_service::requests::{RequestView, UserType};
use fullmakt_service::system_register::find_system;
use fullmakt_service::system_users::SystemUserView;
use maud::html;

use super::describe::localized;
use super::layout::{alert, failure_page, render, Page};
use super::visit::{query_param, Visit};
use super::BASE;
use crate::html::query_value;
use crate::login::redirect;
use crate::AppState;

#[utoipa::path(get, path = "/accessmanagement/ui", tag = "portal", responses((status = 303, description = "To the overview")))]
pub(crate) async fn home() -> Response {
    redirect(StatusCode::SEE_OTHER, &format!("{BASE}/systemuser/overview"))
}

#[utoipa::path(get, path = "/accessmanagement/ui/systemuser/overview", tag = "portal", params(("lang" = Option<String>, Query, description = "nb, nn or en (remembered)")),
    responses((status = 200, description = "HTML: escalated requests, own and agent system users of the acting party"), (status = 303, description = "To login, or to the party picker")))]
pub(crate) async fn overview(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    let (visit, party) = match Visit::begin_acting(&state, &headers, &uri).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let t = visit.t;
    let approvals = super::approvals(&state);
    let person = &visit.person;
    let admin = state.gates.permits(person.party_id, party.party_id, Gate::AccessManagementRead).await;
    let client_admin = state.gates.permits(person.party_id, party.party_id, Gate::ClientAdministrationRead).await;
    let may_approve = state.gates.permits(person.party_id, party.party_id, Gate::AccessManagementWrite).await;

    let mut pending: Vec<RequestView> = Vec::new();
    if may_approve {
        if let Some(org_no) = &party.org_number {
            for kind in [UserType::Standard, UserType::Agent] {
                match approvals.pending(person, party.party_id, org_no, kind).await {
                    Ok(list) => pending.extend(list.into_iter().filter(|r| r.escalated)),
                    Err(e) => return failure_page(&visit, &e),
                }
            }
        }
    }
    let mut own: Vec<SystemUserView> = Vec::new();
    if admin {
        match approvals.system_users_of(person, party.party_id, UserType::Standard).await {
            Ok(list) => own = list,
            Err(e) => return failure_page(&visit, &e),
        }
    }
    let mut agents: Vec<SystemUserView> = Vec::new();
    if admin || client_admin {
        // SUO decides who sees agent system users; an admin without it sees an empty list.
        if let Ok(list) = approvals.system_users_of(person, party.party_id, UserType::Agent).await {
            agents = list;
        }
    }
    let mut system_names = std::collections::HashMap::new();
    for id in pending.iter().map(|r| &r.system_id).chain(own.iter().chain(agents.iter()).map(|s| &s.row.system_id)) {
        if !system_names.contains_key(id) {
            let name = match find_system(&state.store, id).await {
                Ok(Some(s)) => localized(&s.name, visit.language),
                _ => id.clone(),
            };
            system_names.insert(id.clone(), name);
        }
    }
    let deleted = query_param(&uri, "deleted").is_some();
    let created = query_param(&uri, "created");
    let body = html! {
        @if deleted { (alert("success", None, html! { p.ds-paragraph { (t.deleted_banner) } })) }
        p.ds-lead { (t.overview_intro) }
        @if !admin && !client_admin {
            (alert("warning", None, html! { p.ds-paragraph { (t.no_rights_warning) } }))
        }
        @if !pending.is_empty() {
            section.ds-stack aria-labelledby="pending-heading" {
                h2 #pending-heading .ds-heading data-size="md" { (t.pending_heading) }
                ul.ds-list {
                    @for r in &pending {
                        @let (page, tag) = match r.user_type {
                            UserType::Standard => ("request", t.pending_standard_tag),
                            UserType::Agent => ("agentrequest", t.pending_agent_tag),
                        };
                        @let reference: String = r.id.chars().rev().take(5).collect::<Vec<_>>().into_iter().rev().collect();
                        li.ds-list__item {
                            a.ds-list__link href={ (BASE) "/systemuser/" (page) "?id=" (query_value(&r.id)) "&skiplogout=true" } {
                                span.ds-list__title { (system_names.get(&r.system_id).cloned().unwrap_or_default()) }
                                span.ds-list__description { "(ref: " (reference) ")" }
                                span.ds-tag data-color="warning" { (tag) }
                            }
                        }
                    }
                }
            }
        }
        @if admin {
            section.ds-stack aria-labelledby="own-heading" {
                h2 #own-heading .ds-heading data-size="md" { (t.own_heading) }
                @if own.is_empty() {
                    p.ds-paragraph { (t.none_own) }
                } @else {
                    ul.ds-list {
                        @for su in &own {
                            li.ds-list__item {
                                a.ds-list__link href={ (BASE) "/systemuser/" (query_value(&su.row.id)) } {
                                    span.ds-list__title { (su.row.integration_title) }
                                    span.ds-list__description { (system_names.get(&su.row.system_id).cloned().unwrap_or_default()) }
                                    @if created.as_deref() == Some(su.row.id.as_str()) { span.ds-tag data-color="success" { (t.new_tag) } }
                                    span.ds-tag data-color="accent" { (t.own_tag) }
                                }
                            }
                        }
                    }
                }
                p.ds-paragraph { a.ds-button data-variant="primary" href={ (BASE) "/systemuser/create" } { (t.create_button) } }
            }
        }
        @if admin || client_admin {
            section.ds-stack aria-labelledby="agent-heading" {
                h2 #agent-heading .ds-heading data-size="md" { (t.agent_heading) }
                @if agents.is_empty() {
                    p.ds-paragraph { (t.none_agent) }
                } @else {
                    ul.ds-list {
                        @for su in &agents {
                            li.ds-list__item {
                                a.ds-list__link href={ (BASE) "/systemuser/" (query_value(&su.row.id)) "/agentdelegation" } {
                                    span.ds-list__title { (su.row.integration_title) }
                                    span.ds-list__description { (system_names.get(&su.row.system_id).cloned().unwrap_or_default()) }
                                    span.ds-tag data-color="neutral" { (t.agent_tag) }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    let title = (t.overview_title)(&party.name);
    render(&visit, StatusCode::OK, Page { title: &title, acting: Some(&party), body, form_targets: vec![] })
}
