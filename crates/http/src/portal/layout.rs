//! The portal's page shell and its components, in the class vocabulary of `assets/portal.css`
//! (Designsystemet's look: `ds-*` classes with `data-*` variants).

use std::convert::Infallible;

use axum::body::{Body, Bytes};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, REFERRER_POLICY, X_FRAME_OPTIONS};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use fullmakt_domain::auth_error::AuthCode;
use fullmakt_domain::catalogue::Language;
use fullmakt_service::auth_error::AuthError;
use fullmakt_store::PartyRow;
use futures_util::future::ready;
use futures_util::stream::{self, Stream, StreamExt};
use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::texts::{texts, Texts};
use super::visit::Visit;
use super::BASE;

const LANGUAGES: [(Language, &str, &str); 3] = [(Language::Nb, "nb", "Bokmål"), (Language::Nn, "nn", "Nynorsk"), (Language::En, "en", "English")];

/// What a page is: its title, who it acts for (shown in the header), its body, and the origins
/// its forms may end up on besides fullmakt (a request's redirect URL).
pub(crate) struct Page<'a> {
    pub title: &'a str,
    pub acting: Option<&'a PartyRow>,
    pub body: Markup,
    pub form_targets: Vec<String>,
}

pub(crate) fn render(visit: &Visit, status: StatusCode, page: Page<'_>) -> Response {
    let markup = page_markup(visit, page.title, page.acting, page.body);
    visit.finish(respond(status, markup, &page.form_targets))
}

/// A page whose middle arrives while the server works: the shell and `head` at once, then each
/// of `parts` as it is produced (one chunk each, so the browser shows them as they come), then
/// the shell's end. Long work — adding every client, one transaction each — shows its progress
/// without JavaScript; if the browser goes away, the stream is dropped and the work stops
/// between two parts.
pub(crate) fn render_streamed<S>(visit: &Visit, title: &str, acting: Option<&PartyRow>, head: Markup, parts: S) -> Response
where
    S: Stream<Item = String> + Send + 'static,
{
    // Names in the page are escaped, so no text from the register can contain the mark.
    const MARK: &str = "<!--fullmakt:stream-->";
    let page = page_markup(visit, title, acting, html! { (head) (PreEscaped(MARK)) }).into_string();
    let (start, end) = match page.split_once(MARK) {
        Some((start, end)) => (start.to_owned(), end.to_owned()),
        None => (page, String::new()),
    };
    let chunks = stream::once(ready(start))
        .chain(parts)
        .chain(stream::once(ready(end)))
        .map(|chunk| Ok::<_, Infallible>(Bytes::from(chunk)));
    let mut response = respond_body(StatusCode::OK, Body::from_stream(chunks), &[]);
    // A buffering proxy in front would hold the progress back until the end.
    response.headers_mut().insert(HeaderName::from_static("x-accel-buffering"), HeaderValue::from_static("no"));
    visit.finish(response)
}

fn page_markup(visit: &Visit, title: &str, acting: Option<&PartyRow>, body: Markup) -> Markup {
    let t = visit.t;
    shell(
        t,
        visit.language,
        title,
        html! {
            div.portal-header__actor {
                strong { (visit.person.name) }
                @if let Some(party) = acting {
                    span { (t.acting_for) " " (party.name) }
                    @if let Some(org) = &party.org_number { span.ds-muted { (t.org_no) "\u{a0}" (org) } }
                }
                a.ds-link href={ (BASE) "/party?goto=" (crate::html::query_value(&visit.here)) } { (t.change_party) }
            }
            (language_switch(visit.language, &visit.here, t))
            form.portal-logout method="post" action={ (BASE) "/logout" } {
                input type="hidden" name="csrf" value=(visit.session.csrf_token());
                button.ds-button type="submit" data-variant="tertiary" { (t.logout) }
            }
        },
        body,
    )
}

/// A page for a browser without a usable session (errors, logged out).
pub(crate) fn bare(language: Language, status: StatusCode, title: &str, body: Markup) -> Response {
    let t = texts(language);
    respond(status, shell(t, language, title, html! { (language_switch(language, BASE, t)) }, body), &[])
}

pub(crate) fn bare_error(language: Language, status: StatusCode, message: &str) -> Response {
    let t = texts(language);
    bare(language, status, t.error_title, html! { (alert("danger", None, html! { p.ds-paragraph { (message) } })) })
}

pub(crate) fn error_page(visit: &Visit, status: StatusCode, message: &str) -> Response {
    let t = visit.t;
    let body = html! {
        (alert("danger", None, html! { p.ds-paragraph { (message) } }))
        p.ds-paragraph { a.ds-link href={ (BASE) "/systemuser/overview" } { (t.back_to_overview) } }
    };
    let markup = shell(t, visit.language, t.error_title, html! { (language_switch(visit.language, &visit.here, t)) }, body);
    respond(status, markup, &[])
}

fn shell(t: &Texts, _language: Language, title: &str, header_extra: Markup, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(t.html_lang) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " – fullmakt" }
                link rel="stylesheet" href={ (BASE) "/assets/portal.css" };
            }
            body.portal {
                a.ds-skip-link href="#main" { (t.skip_link) }
                header.portal-header {
                    a.portal-header__brand href={ (BASE) "/systemuser/overview" } {
                        span { "fullmakt" }
                        small { (t.product_subtitle) }
                    }
                    (header_extra)
                }
                main #main .portal-main tabindex="-1" {
                    h1.ds-heading data-size="lg" { (title) }
                    (body)
                }
                footer.portal-footer { p.ds-paragraph data-size="sm" { (t.footer) } }
            }
        }
    }
}

fn language_switch(current: Language, here: &str, t: &Texts) -> Markup {
    html! {
        nav.portal-language aria-label=(t.language) {
            @for (language, code, name) in LANGUAGES {
                @if language == current {
                    a.ds-link href=(with_language(here, code)) aria-current="true" lang=(code) hreflang=(code) { (name) }
                } @else {
                    a.ds-link href=(with_language(here, code)) lang=(code) hreflang=(code) { (name) }
                }
            }
        }
    }
}

/// `here` with its `lang` parameter set to `code`.
fn with_language(here: &str, code: &str) -> String {
    let (path, query) = here.split_once('?').unwrap_or((here, ""));
    let mut pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
    pairs.retain(|(k, _)| k != "lang");
    pairs.push(("lang".into(), code.into()));
    format!("{path}?{}", serde_urlencoded::to_string(&pairs).unwrap_or_default())
}

fn respond(status: StatusCode, markup: Markup, form_targets: &[String]) -> Response {
    respond_body(status, Body::from(markup.into_string()), form_targets)
}

fn respond_body(status: StatusCode, body: Body, form_targets: &[String]) -> Response {
    // Referrer-Policy same-origin, not no-referrer: under no-referrer browsers post forms with
    // `Origin: null`, which the form check must refuse. Forms post to fullmakt; a form whose answer redirects to a vendor's validated redirect URL
    // names that origin too, as browsers check redirects after a form against form-action.
    let mut form_action = String::from("'self'");
    for origin in form_targets {
        if origin.bytes().all(|b| b.is_ascii_graphic() && b != b';' && b != b',' && b != b'\'') {
            form_action.push(' ');
            form_action.push_str(origin);
        }
    }
    let csp = format!(
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action {form_action}; frame-ancestors 'none'; base-uri 'none'"
    );
    let mut response = (
        status,
        [
            (CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8")),
            (CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
            (REFERRER_POLICY, HeaderValue::from_static("same-origin")),
        ],
        body,
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&csp) {
        response.headers_mut().insert(HeaderName::from_static("content-security-policy"), value);
    }
    response
}

// ---------------------------------------------------------------------------------------------
// Components

pub(crate) fn alert(color: &str, heading: Option<&str>, content: Markup) -> Markup {
    let role = if matches!(color, "danger" | "warning") { "alert" } else { "status" };
    html! {
        div.ds-alert data-color=(color) role=(role) {
            @if let Some(h) = heading { h2.ds-heading data-size="xs" { (h) } }
            (content)
        }
    }
}

/// A form that posts one action with the session's anti-forgery token and hidden fields.
pub(crate) fn action_form(visit: &Visit, action: &str, hidden: &[(&str, &str)], buttons: Markup) -> Markup {
    html! {
        form method="post" action=(action) {
            input type="hidden" name="csrf" value=(visit.session.csrf_token());
            @for (name, value) in hidden { input type="hidden" name=(name) value=(value); }
            div.ds-button-group { (buttons) }
        }
    }
}

pub(crate) fn date(unix: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(unix) {
        Ok(t) => format!("{:02}.{:02}.{}", t.day(), u8::from(t.month()), t.year()),
        Err(_) => String::new(),
    }
}

/// The status and text a failed use case shows in the portal.
pub(crate) fn failure(t: &Texts, error: &AuthError) -> (StatusCode, String) {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let text = match error {
        AuthError::Problem(p) => match p.code {
            AuthCode::RequestUserIsNotAccessManager => t.err_not_access_manager.to_owned(),
            AuthCode::RequestNotFound | AuthCode::AgentRequestNotFound | AuthCode::PartyIdRequestMismatch | AuthCode::PartyIdAgentRequestMismatch => {
                t.err_request_not_found.to_owned()
            }
            AuthCode::RequestStatusNotNew => t.err_not_new.to_owned(),
            AuthCode::SystemUserAlreadyExists => t.err_already_exists.to_owned(),
            AuthCode::AccessPackageDelegationMissingRequiredAccess | AuthCode::AccessPackageDelegationCheckFailed => {
                t.err_missing_package_rights.to_owned()
            }
            AuthCode::DelegationRightMissingPackageAccess
            | AuthCode::DelegationRightMissingRoleAccess
            | AuthCode::DelegationRightMissingDelegationAccess
            | AuthCode::DelegationRightResourceNotDelegable
            | AuthCode::DelegationRightResourceIsMaskinPortenSchema
            | AuthCode::UnableToDoDelegationCheck => t.err_missing_rights.to_owned(),
            AuthCode::SystemUserNotFound | AuthCode::DeleteSystemUserNotOwned => t.err_system_user_not_found.to_owned(),
            AuthCode::AgentSystemUserClientNotFound => t.err_client_not_found.to_owned(),
            AuthCode::AgentSystemUserClientMissingAccessPackages => t.err_client_missing_packages.to_owned(),
            AuthCode::AgentSystemUserDelegationNotFound => t.err_client_not_added.to_owned(),
            AuthCode::AccessPackageNotDelegableStandard => t.err_own_not_assignable.to_owned(),
            AuthCode::AccessPackageNotFound => t.err_no_packages.to_owned(),
            AuthCode::AgentSystemUserExpectedAgentUserType | AuthCode::AgentSystemUserExpectedStandardUserType => t.err_wrong_kind.to_owned(),
            AuthCode::AgentSystemUserInvalidDelegationFacilitator | AuthCode::AgentSystemUserFailedToGetClientsForbidden => {
                t.err_forbidden.to_owned()
            }
            AuthCode::PartyPartyUuidNotFound => t.err_bad_input.to_owned(),
            code => (t.err_generic)(&code.to_string()),
        },
        AuthError::Admin(fullmakt_service::AdminError::Forbidden(_)) => t.err_forbidden.to_owned(),
        AuthError::Admin(fullmakt_service::AdminError::NotFound(_)) => t.err_page_not_found.to_owned(),
        other => (t.err_generic)(&other.status().to_string()),
    };
    (status, text)
}

/// The page for a failed use case.
pub(crate) fn failure_page(visit: &Visit, error: &AuthError) -> Response {
    if error.status() >= 500 {
        tracing::error!(error = ?error, "portal: a use case failed");
    }
    let (status, text) = failure(visit.t, error);
    visit.error(status, &text)
}
