//! An agent system user's clients (registry-delegation-ui.md §5.3 `systemuser/:id/agentdelegation`):
//! the clients connected to it, the facilitator's clients that can be added (searchable, with
//! "hide those already added"), adding and removing one, adding all (a streamed page that fills
//! in as each client is added, then sums up), adding the own organisation, and deleting the agent.
//!
//! Every action is a form to the same service use cases as the Authentication API's
//! `systemuser/agent/…` routes (`Approvals::delegate_client`, `revoke_client`, …), so the gates
//! (CAR/CAW for clients, AMW for the own organisation and deletion) are the API's. "Add all" is
//! one form, but each client is its own `delegate_client` call and transaction: one client that
//! fails does not undo the others, as in Altinn, where the browser adds them one by one.

use std::collections::HashSet;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use fullmakt_domain::catalogue::Language;
use fullmakt_service::access_management::Gate;
use fullmakt_service::client_delegation::{ClientDelegationView, Customer};
use fullmakt_service::requests::UserType;
use fullmakt_service::system_register::find_system;
use fullmakt_service::system_users::SystemUserView;
use fullmakt_store::PartyRow;
use futures_util::stream;
use maud::{html, Markup};
use serde::Deserialize;

use super::describe::{localized, package_list, summary_card, vendor_name, Summary};
use super::layout::{action_form, alert, failure, failure_page, render, render_streamed, Page};
use super::texts::Texts;
use super::visit::{parse_query, Visit};
use super::{approvals, BASE};
use crate::html::query_value;
use crate::AppState;

/// The page's own query: the search, and what the last action did (for its banner).
#[derive(Deserialize, Default)]
pub(crate) struct ClientsQuery {
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    hide: Option<String>,
    /// `added`, `removed`, `own-added` or `own-removed`.
    #[serde(default)]
    done: Option<String>,
    /// The client the last action was about.
    #[serde(default)]
    client: Option<String>,
}

impl ClientsQuery {
    fn search(&self) -> &str {
        self.q.as_deref().map(str::trim).unwrap_or_default()
    }

    fn hides_added(&self) -> bool {
        self.hide.as_deref().is_some_and(|v| v == "true" || v == "on" || v == "1")
    }
}

/// One client action; `q` and `hide` carry the search back to the page.
#[derive(Deserialize)]
pub(crate) struct ClientForm {
    action: String,
    #[serde(default)]
    client: Option<String>,
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    hide: Option<String>,
}

fn page_path(id: &str) -> String {
    format!("{BASE}/systemuser/{}/agentdelegation", query_value(id))
}

/// The page with the search kept and, after an action, what it did.
fn page_url(id: &str, search: &str, hide: bool, done: Option<(&str, Option<&str>)>) -> String {
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    if !search.is_empty() {
        pairs.push(("q", search));
    }
    if hide {
        pairs.push(("hide", "true"));
    }
    if let Some((what, client)) = done {
        pairs.push(("done", what));
        if let Some(client) = client {
            pairs.push(("client", client));
        }
    }
    let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    if query.is_empty() {
        page_path(id)
    } else {
        format!("{}?{query}", page_path(id))
    }
}

/// Whether a client matches the search: its name (any case) or its organisation number
/// (spaces ignored, as people type `310 000 019`).
fn matches(client: &PartyRow, search: &str) -> bool {
    if search.is_empty() {
        return true;
    }
    let digits: String = search.chars().filter(|c| !c.is_whitespace()).collect();
    let by_number = !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) && client.org_number.as_deref().is_some_and(|o| o.contains(&digits));
    by_number || client.name.to_lowercase().contains(&search.to_lowercase())
}

/// The agent system user of the acting party, or the response that says why not (a standard
/// system user's page is elsewhere).
async fn agent_view(state: &AppState, visit: &Visit, party: &PartyRow, id: &str, standard_page: &str) -> Result<SystemUserView, Response> {
    let view = approvals(state).system_user_of(&visit.person, party.party_id, id).await.map_err(|e| failure_page(visit, &e))?;
    if view.row.user_type != UserType::Agent.as_str() {
        return Err(visit.redirect(standard_page));
    }
    Ok(view)
}

async fn system_name(state: &AppState, language: Language, view: &SystemUserView) -> String {
    match find_system(&state.store, &view.row.system_id).await {
        Ok(Some(s)) => localized(&s.name, language),
        _ => view.row.system_id.clone(),
    }
}

/// `regnskapsforer` → "Regnskapsfører" in the page's language.
fn role_names(state: &AppState, language: Language, customer: &Customer) -> String {
    let mut names: Vec<String> = Vec::new();
    for access in &customer.access {
        let name = state.catalogue.role(&access.role_code).map_or_else(|| access.role_code.clone(), |r| r.name.get(language).to_owned());
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names.join(", ")
}

fn org_line(t: &Texts, party: &PartyRow) -> String {
    party.org_number.as_deref().map(|o| format!("{} {o}", t.org_no)).unwrap_or_default()
}

#[utoipa::path(get, path = "/accessmanagement/ui/systemuser/{id}/agentdelegation", tag = "portal",
    params(("id" = String, Path), ("q" = Option<String>, Query, description = "Search: part of a client's name or organisation number"), ("hide" = Option<bool>, Query, description = "Hide the clients already added")),
    responses((status = 200, description = "HTML: the agent system user's packages, its clients, and the clients that can be added (or §6's warning for a person who is not a client administrator)"), (status = 303, description = "To login, the party picker, or a standard system user's page"), (status = 400, description = "Malformed query"), (status = 403, description = "No access for the acting party"), (status = 404, description = "No such system user")))]
pub(crate) async fn page(State(state): State<AppState>, headers: HeaderMap, uri: Uri, Path(id): Path<String>) -> Response {
    let (visit, party) = match Visit::begin_acting(&state, &headers, &uri).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(query) = parse_query::<ClientsQuery>(&uri) else {
        return visit.error(StatusCode::BAD_REQUEST, visit.t.err_bad_input);
    };
    show(&state, &visit, &party, &id, &query, None).await
}

/// The page, with `failure` (a refused action: its status and text) above it.
async fn show(state: &AppState, visit: &Visit, party: &PartyRow, id: &str, query: &ClientsQuery, failure: Option<(StatusCode, String)>) -> Response {
    let t = visit.t;
    let language = visit.language;
    let view = match agent_view(state, visit, party, id, &format!("{BASE}/systemuser/{}", query_value(id))).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let person = &visit.person;
    let approvals = approvals(state);
    let client_admin = state.gates.permits(person.party_id, party.party_id, Gate::ClientAdministrationRead).await;
    let admin = state.gates.permits(person.party_id, party.party_id, Gate::AccessManagementWrite).await;
    let mut available: Vec<Customer> = Vec::new();
    let mut delegated: Vec<ClientDelegationView> = Vec::new();
    if client_admin {
        match approvals.available_clients(person, party.party_id, &view.row.id).await {
            Ok((_, clients)) => available = clients,
            Err(e) => return failure_page(visit, &e),
        }
        match approvals.delegated_clients(person, party.party_id, &party.party_uuid, &view.row.id).await {
            Ok(list) => delegated = list,
            Err(e) => return failure_page(visit, &e),
        }
    }
    // The own organisation is the access managers' (AMW), as in the API.
    let has_own = if admin {
        match approvals.has_own_organisation(person, party.party_id, &view.row.id, &party.party_uuid).await {
            Ok(has) => has,
            Err(e) => return failure_page(visit, &e),
        }
    } else {
        false
    };
    // §2.4: offered only when every package may go to the organisation itself.
    let all_assignable = !view.access_packages.is_empty()
        && view.access_packages.iter().all(|p| state.catalogue.package_by_urn(&p.urn).is_some_and(|p| p.is_assignable));
    let added: HashSet<&str> = delegated.iter().map(|d| d.client.party_uuid.as_str()).collect();
    let not_added = available.iter().filter(|c| !added.contains(c.party.party_uuid.as_str())).count();
    let search = query.search();
    let hide = query.hides_added();
    let shown: Vec<&Customer> =
        available.iter().filter(|c| matches(&c.party, search) && !(hide && added.contains(c.party.party_uuid.as_str()))).collect();

    let name_of = |uuid: &str| -> String {
        available
            .iter()
            .map(|c| &c.party)
            .chain(delegated.iter().map(|d| &d.client))
            .find(|p| p.party_uuid.eq_ignore_ascii_case(uuid))
            .map(|p| p.name.clone())
            .unwrap_or_default()
    };
    let banner = match (query.done.as_deref(), query.client.as_deref()) {
        (Some("added"), Some(client)) => Some((t.client_added)(&name_of(client))),
        (Some("removed"), Some(client)) => Some((t.client_removed)(&name_of(client))),
        (Some("own-added"), _) => Some(t.own_added.to_owned()),
        (Some("own-removed"), _) => Some(t.own_removed.to_owned()),
        _ => None,
    };
    let system = system_name(state, language, &view).await;
    let vendor = vendor_name(&state.store, &view.vendor_orgno).await;
    let action = page_path(&view.row.id);
    let keep: Vec<(&str, &str)> = [("q", search), ("hide", if hide { "true" } else { "" })].into_iter().filter(|(_, v)| !v.is_empty()).collect();
    let form = |what: &'static str, client: Option<&str>, button: Markup| {
        let mut hidden = vec![("action", what)];
        if let Some(client) = client {
            hidden.push(("client", client));
        }
        hidden.extend(keep.iter().copied());
        action_form(visit, &action, &hidden, button)
    };

    let body = html! {
        @if let Some((_, message)) = &failure { (alert("danger", None, html! { p.ds-paragraph { (message) } })) }
        @if let Some(message) = &banner { (alert("success", None, html! { p.ds-paragraph { (message) } })) }
        p.ds-lead { ((t.clients_intro)(&system)) }
        (summary_card(t, &Summary {
            system_name: &system,
            vendor: &vendor,
            vendor_orgno: &view.vendor_orgno,
            party_name: &party.name,
            party_org_no: Some(&view.row.owner_org_no),
            reference: (view.row.external_ref != view.row.owner_org_no).then_some(view.row.external_ref.as_str()),
            description: None,
        }))
        section.ds-stack aria-labelledby="packages-heading" {
            h2 #packages-heading .ds-heading data-size="sm" { ((t.package_count)(view.access_packages.len())) }
            (package_list(state.catalogue, language, &view.access_packages))
        }
        @if !client_admin {
            (alert("warning", None, html! { p.ds-paragraph { (t.only_client_admins) } }))
        } @else {
            section.ds-stack aria-labelledby="delegated-heading" {
                h2 #delegated-heading .ds-heading data-size="md" { (t.delegated_heading) }
                @if delegated.is_empty() && !has_own {
                    p.ds-paragraph { (t.delegated_none) }
                } @else {
                    ul.ds-list {
                        @if has_own {
                            li.ds-list__item {
                                span.ds-list__title { (t.own_organisation) }
                                span.ds-list__description { (party.name) " · " (org_line(t, party)) }
                                (form("remove-own", None, html! {
                                    button.ds-button type="submit" data-variant="secondary" { (t.remove_own_button) }
                                }))
                            }
                        }
                        @for d in &delegated {
                            li.ds-list__item {
                                span.ds-list__title { (d.client.name) }
                                span.ds-list__description { (org_line(t, &d.client)) }
                                (form("remove", Some(&d.client.party_uuid), html! {
                                    button.ds-button type="submit" data-variant="secondary" {
                                        (t.remove_client_button) span.visually-hidden { ": " (d.client.name) }
                                    }
                                }))
                            }
                        }
                    }
                }
            }
            section.ds-stack aria-labelledby="manage-heading" {
                h2 #manage-heading .ds-heading data-size="md" { (t.manage_heading) }
                @if available.is_empty() {
                    (alert("info", None, html! { p.ds-paragraph { (t.no_clients) } }))
                } @else {
                    form.portal-search method="get" action=(action) role="search" {
                        div.ds-field {
                            label.ds-label for="client-search" { (t.search_label) }
                            span #client-search-hint .ds-field__description { (t.search_hint) }
                            input #client-search .ds-input type="search" name="q" value=(search) aria-describedby="client-search-hint" autocomplete="off";
                        }
                        label.ds-checkbox {
                            input type="checkbox" name="hide" value="true" checked[hide];
                            span { (t.hide_added) }
                        }
                        div.ds-button-group {
                            button.ds-button type="submit" data-variant="secondary" { (t.search_button) }
                            @if !search.is_empty() || hide {
                                a.ds-link href=(action) { (t.show_all) }
                            }
                        }
                    }
                    @if not_added > 0 {
                        (action_form(visit, &format!("{action}/all"), &[], html! {
                            button.ds-button type="submit" data-variant="primary" { ((t.add_all_button)(not_added)) }
                        }))
                    }
                    @if shown.is_empty() {
                        p.ds-paragraph {
                            @if search.is_empty() { (t.all_clients_added) } @else { ((t.no_matches)(search)) }
                        }
                    } @else {
                        ul.ds-list #clients {
                            @for c in &shown {
                                @let is_added = added.contains(c.party.party_uuid.as_str());
                                li.ds-list__item {
                                    span.ds-list__title { (c.party.name) }
                                    span.ds-list__description {
                                        (org_line(t, &c.party)) " · " (role_names(state, language, c))
                                        @if is_added { " · " strong { (t.added_tag) } }
                                    }
                                    @if is_added {
                                        (form("remove", Some(&c.party.party_uuid), html! {
                                            button.ds-button type="submit" data-variant="secondary" {
                                                (t.remove_client_button) span.visually-hidden { ": " (c.party.name) }
                                            }
                                        }))
                                    } @else {
                                        (form("add", Some(&c.party.party_uuid), html! {
                                            button.ds-button type="submit" data-variant="primary" {
                                                (t.add_client_button) span.visually-hidden { ": " (c.party.name) }
                                            }
                                        }))
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if admin && all_assignable && !has_own {
            section.ds-stack aria-labelledby="own-heading" {
                h2 #own-heading .ds-heading data-size="md" { (t.own_heading_agent) }
                p.ds-paragraph { (t.agent_self_hint) }
                (form("add-own", None, html! {
                    button.ds-button type="submit" data-variant="secondary" { (t.add_own_button) }
                }))
            }
        }
        hr.ds-divider;
        div.ds-button-group {
            @if admin {
                a.ds-button data-variant="secondary" data-color="danger" href={ (action) "/delete" } { (t.delete_button) }
            }
            a.ds-button data-variant="tertiary" href={ (BASE) "/systemuser/overview" } { (t.back_to_overview) }
        }
    };
    let status = failure.as_ref().map_or(StatusCode::OK, |(s, _)| *s);
    render(visit, status, Page { title: &view.row.integration_title, acting: Some(party), body, form_targets: vec![] })
}

#[utoipa::path(post, path = "/accessmanagement/ui/systemuser/{id}/agentdelegation", tag = "portal", params(("id" = String, Path)),
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "csrf, action=add|remove|add-own|remove-own, client (a client's party uuid, for add and remove), q and hide (the search to return to)"),
    responses((status = 303, description = "Back to the page, which says what was done"), (status = 400, description = "HTML: malformed form, or a refusal (AUTH-00079 client not found, AUTH-00080 missing packages, AUTH-00038 not added, AUTH-00064 not assignable)"), (status = 403, description = "No session, forged form, or not a client administrator (the page, with the refusal)"), (status = 404, description = "No such system user")))]
pub(crate) async fn action(State(state): State<AppState>, headers: HeaderMap, uri: Uri, Path(id): Path<String>, body: String) -> Response {
    let form: Option<ClientForm> = serde_urlencoded::from_str(&body).ok();
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
    let approvals = approvals(&state);
    let person = &visit.person;
    let client = form.client.as_deref().map(str::trim).filter(|c| !c.is_empty());
    let outcome = match (form.action.as_str(), client) {
        ("add", Some(client)) => approvals.delegate_client(person, party.party_id, &id, &party.party_uuid, client).await.map(|_| "added"),
        ("remove", Some(client)) => approvals.revoke_client(person, party.party_id, &id, &party.party_uuid, client).await.map(|_| "removed"),
        ("add-own", _) => approvals.add_own_organisation(person, party.party_id, &id, &party.party_uuid).await.map(|_| "own-added"),
        ("remove-own", _) => approvals.remove_own_organisation(person, party.party_id, &id, &party.party_uuid).await.map(|_| "own-removed"),
        _ => return visit.error(StatusCode::BAD_REQUEST, visit.t.err_bad_input),
    };
    let query = ClientsQuery { q: form.q, hide: form.hide, done: None, client: None };
    match outcome {
        Ok(done) => {
            let client = client.filter(|_| !done.starts_with("own"));
            visit.redirect(&page_url(&id, query.search(), query.hides_added(), Some((done, client))))
        }
        Err(e) => {
            if e.status() >= 500 {
                tracing::error!(error = ?e, "portal: a client action failed");
            }
            show(&state, &visit, &party, &id, &query, Some(failure(visit.t, &e))).await
        }
    }
}

#[utoipa::path(post, path = "/accessmanagement/ui/systemuser/{id}/agentdelegation/all", tag = "portal", params(("id" = String, Path)),
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "csrf"),
    responses((status = 200, description = "HTML, streamed: one row per client as it is added (each its own transaction), then how many were added and why the others were not"), (status = 403, description = "No session, forged form, or not a client administrator"), (status = 404, description = "No such system user")))]
pub(crate) async fn add_all(State(state): State<AppState>, headers: HeaderMap, uri: Uri, Path(id): Path<String>, body: String) -> Response {
    let (visit, party) = match Visit::begin_form_acting(&state, &headers, &uri, &body).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let t = visit.t;
    let view = match agent_view(&state, &visit, &party, &id, &format!("{BASE}/systemuser/{}", query_value(&id))).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    // Refused as a whole before anything streams, rather than as one failure per client.
    if !state.gates.permits(visit.person.party_id, party.party_id, Gate::ClientAdministrationWrite).await {
        return show(&state, &visit, &party, &id, &ClientsQuery::default(), Some((StatusCode::FORBIDDEN, t.only_client_admins.to_owned()))).await;
    }
    let approvals = approvals(&state);
    let available = match approvals.available_clients(&visit.person, party.party_id, &view.row.id).await {
        Ok((_, clients)) => clients,
        Err(e) => return failure_page(&visit, &e),
    };
    let delegated = match approvals.delegated_clients(&visit.person, party.party_id, &party.party_uuid, &view.row.id).await {
        Ok(list) => list,
        Err(e) => return failure_page(&visit, &e),
    };
    let added: HashSet<String> = delegated.into_iter().map(|d| d.client.party_uuid).collect();
    let to_add: Vec<PartyRow> = available.into_iter().map(|c| c.party).filter(|p| !added.contains(&p.party_uuid)).collect();
    let total = to_add.len();
    let back = page_path(&view.row.id);

    let head = html! {
        p.ds-lead { @if total == 0 { (t.add_all_nothing) } @else { ((t.add_all_intro)(total)) } }
        h2 #progress-heading .ds-heading data-size="sm" { (t.add_all_progress) }
    };
    let work = AddAll {
        state: state.clone(),
        person: visit.person.clone(),
        party: party.clone(),
        agent_id: view.row.id.clone(),
        t,
        clients: to_add.into_iter(),
        position: 0,
        total,
        added: 0,
        failures: Vec::new(),
        back,
        stage: Stage::Opening,
    };
    let parts = stream::unfold(work, |mut work| async move { work.next_part().await.map(|part| (part, work)) });
    render_streamed(&visit, t.add_all_title, Some(&party), head, parts)
}

enum Stage {
    Opening,
    Adding,
    Summary,
    Finished,
}

/// "Add all" as a sequence of page parts: the opening of the progress list, one row per client
/// (added when the row is asked for, so the work goes at the browser's pace and stops with it),
/// then the summary.
struct AddAll {
    state: AppState,
    person: PartyRow,
    party: PartyRow,
    agent_id: String,
    t: &'static Texts,
    clients: std::vec::IntoIter<PartyRow>,
    position: usize,
    total: usize,
    added: usize,
    failures: Vec<(PartyRow, String)>,
    back: String,
    stage: Stage,
}

impl AddAll {
    async fn next_part(&mut self) -> Option<String> {
        let t = self.t;
        match self.stage {
            Stage::Opening => {
                self.stage = Stage::Adding;
                // role=log: a screen reader reads each row as it arrives.
                Some(r#"<div role="log" aria-labelledby="progress-heading"><ol class="ds-list">"#.to_owned())
            }
            Stage::Adding => {
                let Some(client) = self.clients.next() else {
                    self.stage = Stage::Summary;
                    return Some("</ol></div>".to_owned());
                };
                self.position += 1;
                let outcome = approvals(&self.state).delegate_client(&self.person, self.party.party_id, &self.agent_id, &self.party.party_uuid, &client.party_uuid).await;
                let position = (t.add_all_position)(self.position, self.total);
                let row = match outcome {
                    Ok(_) => {
                        self.added += 1;
                        html! {
                            li.ds-list__item data-outcome="added" {
                                span.ds-list__title { (client.name) }
                                span.ds-list__description { (position) " · " (org_line(t, &client)) }
                                span.ds-tag data-color="success" { (t.add_all_row_added) }
                            }
                        }
                    }
                    Err(e) => {
                        if e.status() >= 500 {
                            tracing::error!(error = ?e, "portal: adding a client failed");
                        }
                        let (_, reason) = failure(t, &e);
                        let markup = html! {
                            li.ds-list__item data-outcome="failed" {
                                span.ds-list__title { (client.name) }
                                span.ds-list__description { (position) " · " (org_line(t, &client)) " · " (reason) }
                                span.ds-tag data-color="danger" { (t.add_all_row_failed) }
                            }
                        };
                        self.failures.push((client, reason));
                        markup
                    }
                };
                Some(row.into_string())
            }
            Stage::Summary => {
                self.stage = Stage::Finished;
                let summary = summary(t, self.added, self.total, &self.failures, &self.back);
                Some(summary.into_string())
            }
            Stage::Finished => None,
        }
    }
}

/// How "add all" went: a status region (read out when it arrives) with how many were added and
/// each failure with its reason, and the way back.
fn summary(t: &Texts, added: usize, total: usize, failures: &[(PartyRow, String)], back: &str) -> Markup {
    let color = if failures.is_empty() { "success" } else { "warning" };
    html! {
        section #summary .ds-stack aria-labelledby="summary-heading" {
            div.ds-alert data-color=(color) role="status" {
                h2 #summary-heading .ds-heading data-size="xs" { (t.add_all_done) }
                p.ds-paragraph { ((t.add_all_summary)(added, total)) }
                @if !failures.is_empty() {
                    h3.ds-heading data-size="2xs" { (t.add_all_failures) }
                    ul {
                        @for (client, reason) in failures {
                            li { strong { (client.name) } " (" (org_line(t, client)) "): " (reason) }
                        }
                    }
                }
            }
            p.ds-paragraph { a.ds-button data-variant="primary" href=(back) { (t.back_to_clients) } }
        }
    }
}

#[utoipa::path(get, path = "/accessmanagement/ui/systemuser/{id}/agentdelegation/delete", tag = "portal", params(("id" = String, Path)),
    responses((status = 200, description = "HTML: the confirmation step, with the warning that the clients go too"), (status = 303, description = "A standard system user: to its own delete page"), (status = 403, description = "Not an access manager"), (status = 404, description = "No such system user")))]
pub(crate) async fn delete_page(State(state): State<AppState>, headers: HeaderMap, uri: Uri, Path(id): Path<String>) -> Response {
    let (visit, party) = match Visit::begin_acting(&state, &headers, &uri).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let t = visit.t;
    let view = match agent_view(&state, &visit, &party, &id, &format!("{BASE}/systemuser/{}/delete", query_value(&id))).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    if !state.gates.permits(visit.person.party_id, party.party_id, Gate::AccessManagementWrite).await {
        return visit.error(StatusCode::FORBIDDEN, t.err_forbidden);
    }
    let system = system_name(&state, visit.language, &view).await;
    let back = page_path(&view.row.id);
    let body = html! {
        (alert("warning", Some(t.delete_confirm_title), html! {
            p.ds-paragraph { ((t.delete_confirm_text)(&system)) }
            p.ds-paragraph { (t.delete_agent_warning) }
        }))
        (action_form(&visit, &format!("{back}/delete"), &[], html! {
            button.ds-button type="submit" data-variant="primary" data-color="danger" { (t.delete_button) }
            a.ds-button data-variant="secondary" href=(back) { (t.cancel) }
        }))
    };
    render(&visit, StatusCode::OK, Page { title: &view.row.integration_title, acting: Some(&party), body, form_targets: vec![] })
}

#[utoipa::path(post, path = "/accessmanagement/ui/systemuser/{id}/agentdelegation/delete", tag = "portal", params(("id" = String, Path)),
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "csrf"),
    responses((status = 303, description = "Deleted with its client delegations, in one transaction; to the overview"), (status = 400, description = "Not an agent system user"), (status = 403, description = "No session, forged form, or not an access manager"), (status = 404, description = "No such system user")))]
pub(crate) async fn delete(State(state): State<AppState>, headers: HeaderMap, uri: Uri, Path(id): Path<String>, body: String) -> Response {
    let (visit, party) = match Visit::begin_form_acting(&state, &headers, &uri, &body).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    match approvals(&state).delete_agent(&visit.person, party.party_id, &id, &party.party_uuid).await {
        Ok(()) => visit.redirect(&format!("{BASE}/systemuser/overview?deleted=true")),
        Err(e) => failure_page(&visit, &e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn party(name: &str, org: &str) -> PartyRow {
        PartyRow { name: name.into(), org_number: Some(org.into()), ..Default::default() }
    }

    #[test]
    fn the_search_matches_names_in_any_case_and_organisation_numbers_with_spaces() {
        let client = party("Bakeriet Solstråle AS", "310000019");
        assert!(matches(&client, ""));
        assert!(matches(&client, "solstråle"));
        assert!(matches(&client, "BAKERIET"));
        assert!(matches(&client, "310 000"));
        assert!(matches(&client, "000019"));
        assert!(!matches(&client, "310 001"));
        assert!(!matches(&client, "Fiskeriet"));
    }

    #[test]
    fn the_summary_counts_what_was_added_and_lists_each_failure_with_its_reason() {
        let t = super::super::texts::texts(Language::Nb);
        let html = summary(t, 2, 3, &[(party("Klient <Gamma> AS", "311000018"), t.err_client_not_found.to_owned())], "/back").into_string();
        assert!(html.contains("role=\"status\"") && html.contains("data-color=\"warning\""), "{html}");
        assert!(html.contains("2 av 3 klienter ble lagt til."), "{html}");
        assert!(html.contains("Disse klientene ble ikke lagt til"), "{html}");
        assert!(html.contains("<strong>Klient &lt;Gamma&gt; AS</strong> (org.nr. 311000018): Klienten finnes ikke"), "{html}");
        let clean = summary(t, 1, 1, &[], "/back").into_string();
        assert!(clean.contains("data-color=\"success\"") && !clean.contains("Disse klientene"), "{clean}");
    }

    #[test]
    fn the_page_url_keeps_the_search_and_says_what_was_done() {
        assert_eq!(page_url("x", "", false, None), "/accessmanagement/ui/systemuser/x/agentdelegation");
        assert_eq!(
            page_url("x", "Sol & co", true, Some(("added", Some("u")))),
            "/accessmanagement/ui/systemuser/x/agentdelegation?q=Sol+%26+co&hide=true&done=added&client=u"
        );
    }
}
