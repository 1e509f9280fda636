//! One page view by a logged-in person: the session, the person, the language, and the cookies
//! the response must set. Also the form checks every POST runs (anti-forgery token, origin).

use axum::http::header::ORIGIN;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use fullmakt_domain::catalogue::Language;
use fullmakt_service::portal::{authorised_parties, PortalSession, PortalSessions};
use fullmakt_service::verify::PORTAL_SCOPE;
use fullmakt_store::{PartyKey, PartyRow};
use serde::de::DeserializeOwned;

use super::layout;
use super::texts::{texts, Texts};
use super::BASE;
use crate::callers::cookie;
use crate::html::query_value;
use crate::login::{append_cookie, redirect};
use crate::{AppState, ALTINN_TOKEN_COOKIE};

/// The portal session's cookie: a random secret, scoped to the portal's path.
pub const SESSION_COOKIE: &str = "fullmakt_portal";
/// The chosen language, remembered for a year.
pub const LANGUAGE_COOKIE: &str = "fullmakt_lang";

pub(crate) struct Visit {
    pub session: PortalSession,
    pub person: PartyRow,
    pub language: Language,
    pub t: &'static Texts,
    /// The page's own path and query, for the language links and logins.
    pub here: String,
    /// `Set-Cookie` values for the response.
    cookies: Vec<String>,
    secure: bool,
}

/// The language of a request: `?lang=` (remembered in a cookie), then the cookie, then
/// `Accept-Language`.
pub(crate) fn language_of(headers: &HeaderMap, uri: &Uri) -> (Language, Option<Language>) {
    let chosen = query_param(uri, "lang").as_deref().and_then(parse_language);
    if let Some(language) = chosen {
        return (language, Some(language));
    }
    if let Some(language) = cookie(headers, LANGUAGE_COOKIE).and_then(parse_language) {
        return (language, None);
    }
    let header = headers.get(axum::http::header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    (Language::from_accept_language(header), None)
}

fn parse_language(code: &str) -> Option<Language> {
    match code {
        "nb" => Some(Language::Nb),
        "nn" => Some(Language::Nn),
        "en" => Some(Language::En),
        _ => None,
    }
}

pub(crate) fn language_code(language: Language) -> &'static str {
    match language {
        Language::Nb => "nb",
        Language::Nn => "nn",
        Language::En => "en",
    }
}

/// The first value of a query parameter (names matched exactly; a malformed query has none).
pub(crate) fn query_param(uri: &Uri, name: &str) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(uri.query().unwrap_or_default()).ok()?;
    pairs.into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

/// A page's query, or the bad-input page.
pub(crate) fn parse_query<T: DeserializeOwned>(uri: &Uri) -> Option<T> {
    serde_urlencoded::from_str(uri.query().unwrap_or_default()).ok()
}

pub(crate) fn secure_cookies(state: &AppState) -> bool {
    state.public_url.starts_with("https://")
}

fn cookie_attributes(secure: bool) -> &'static str {
    if secure {
        "; HttpOnly; SameSite=Lax; Secure"
    } else {
        "; HttpOnly; SameSite=Lax"
    }
}

impl Visit {
    /// Resolves the person behind a page request. Without a portal session, a valid person
    /// token (person login's cookie) starts one; without that, the browser goes to login and
    /// comes back here.
    pub async fn begin(state: &AppState, headers: &HeaderMap, uri: &Uri) -> Result<Visit, Response> {
        let (language, chosen) = language_of(headers, uri);
        let here = uri.path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_else(|| uri.path().to_owned());
        let secure = secure_cookies(state);
        let t = texts(language);
        let sessions = PortalSessions::new(state.store.clone());
        let mut cookies = Vec::new();
        if let Some(language) = chosen {
            cookies.push(format!("{LANGUAGE_COOKIE}={}; Path={BASE}; Max-Age=31536000; SameSite=Lax{}", language_code(language), if secure { "; Secure" } else { "" }));
        }
        let existing = match cookie(headers, SESSION_COOKIE) {
            Some(secret) => sessions.find(secret).await.map_err(|e| internal(language, e))?,
            None => None,
        };
        let session = match existing {
            Some(session) => session,
            None => {
                let Some(person) = person_from_login(state, headers).await else {
                    return Err(to_login(state, language, &here, cookies));
                };
                let (secret, session) = sessions.start(person.party_id, None).await.map_err(|e| internal(language, e))?;
                cookies.push(format!("{SESSION_COOKIE}={secret}; Path={BASE}{}", cookie_attributes(secure)));
                session
            }
        };
        let person = match state.store.find_party(PartyKey::Id(session.person_party_id)).await {
            Ok(Some(p)) if p.is_deleted == 0 && p.party_type == "person" => p,
            Ok(_) => {
                // The person left the register: the session is worth nothing any more.
                let _ = sessions.end(&session).await;
                return Err(layout::bare_error(language, StatusCode::FORBIDDEN, t.err_forbidden));
            }
            Err(e) => return Err(internal(language, e)),
        };
        Ok(Visit { session, person, language, t, here, cookies, secure })
    }

    /// Like [`Visit::begin`] for a form post: a session is required (no login detour, which
    /// would lose the form), the form's anti-forgery token (`csrf`) must be the session's and a
    /// browser's `Origin`, when sent, must be fullmakt's. The rest of the form is the caller's.
    pub async fn begin_form(state: &AppState, headers: &HeaderMap, uri: &Uri, form: &str) -> Result<Visit, Response> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(form).unwrap_or_default();
        let csrf = pairs.iter().find(|(k, _)| k == "csrf").map_or("", |(_, v)| v.as_str());
        let (language, _) = language_of(headers, uri);
        let t = texts(language);
        if let Some(origin) = headers.get(ORIGIN).and_then(|v| v.to_str().ok()) {
            if origin != public_origin(&state.public_url) {
                return Err(layout::bare_error(language, StatusCode::FORBIDDEN, t.err_form_expired));
            }
        }
        if cookie(headers, SESSION_COOKIE).is_none() {
            return Err(layout::bare_error(language, StatusCode::FORBIDDEN, t.err_form_expired));
        }
        let visit = Self::begin(state, headers, uri).await?;
        if !visit.session.csrf_matches(csrf) {
            return Err(visit.error(StatusCode::FORBIDDEN, t.err_form_expired));
        }
        Ok(visit)
    }

    /// Adds the cookies this visit set to a response.
    pub fn finish(&self, mut response: Response) -> Response {
        for c in &self.cookies {
            append_cookie(&mut response, c);
        }
        response
    }

    pub fn redirect(&self, location: &str) -> Response {
        self.finish(redirect(StatusCode::SEE_OTHER, location))
    }

    pub fn error(&self, status: StatusCode, message: &str) -> Response {
        self.finish(layout::error_page(self, status, message))
    }

    /// The party the person acts for: the chosen one, else the only one they have; `None`
    /// when they must choose (or have none).
    pub async fn acting_party(&self, state: &AppState) -> Result<Option<PartyRow>, Response> {
        if let Some(id) = self.session.acting_party_id {
            return match state.store.find_party(PartyKey::Id(id)).await {
                Ok(Some(p)) if p.is_deleted == 0 => Ok(Some(p)),
                Ok(_) => Ok(None),
                Err(e) => Err(self.finish(internal(self.language, e))),
            };
        }
        let parties = authorised_parties(&state.store, &self.person).await.map_err(|e| self.finish(internal(self.language, e)))?;
        if let [only] = parties.as_slice() {
            let sessions = PortalSessions::new(state.store.clone());
            sessions.act_for(&self.session, only.party_id).await.map_err(|e| self.finish(internal(self.language, e)))?;
            return Ok(Some(only.clone()));
        }
        Ok(None)
    }

    /// The acting party, or a redirect to the party picker that comes back here.
    pub async fn require_party(&self, state: &AppState) -> Result<PartyRow, Response> {
        match self.acting_party(state).await? {
            Some(p) => Ok(p),
            None => Err(self.redirect(&format!("{BASE}/party?goto={}", query_value(&self.here)))),
        }
    }

    /// A page for the acting party: the visit and the party, or the response that gets there
    /// first (login, the party picker, an error).
    pub async fn begin_acting(state: &AppState, headers: &HeaderMap, uri: &Uri) -> Result<(Visit, PartyRow), Response> {
        let visit = Self::begin(state, headers, uri).await?;
        let party = visit.require_party(state).await?;
        Ok((visit, party))
    }

    /// [`Visit::begin_acting`] for a form post: the session, origin and CSRF checks of
    /// [`Visit::begin_form`], then the acting party.
    pub async fn begin_form_acting(state: &AppState, headers: &HeaderMap, uri: &Uri, form: &str) -> Result<(Visit, PartyRow), Response> {
        let visit = Self::begin_form(state, headers, uri, form).await?;
        let party = visit.require_party(state).await?;
        Ok((visit, party))
    }

    /// Makes `party` the acting party (a request's link names its party).
    pub async fn act_for(&mut self, state: &AppState, party: &PartyRow) -> Result<(), Response> {
        if self.session.acting_party_id == Some(party.party_id) {
            return Ok(());
        }
        let sessions = PortalSessions::new(state.store.clone());
        sessions.act_for(&self.session, party.party_id).await.map_err(|e| self.finish(internal(self.language, e)))?;
        self.session.acting_party_id = Some(party.party_id);
        Ok(())
    }

    /// Ends the session server-side and clears the browser's cookies (portal and person token).
    pub async fn end(&mut self, state: &AppState) {
        let _ = PortalSessions::new(state.store.clone()).end(&self.session).await;
        let attributes = cookie_attributes(self.secure);
        self.cookies.push(format!("{SESSION_COOKIE}=; Path={BASE}; Max-Age=0{attributes}"));
        self.cookies.push(format!("{ALTINN_TOKEN_COOKIE}=; Path=/; Max-Age=0{attributes}"));
    }
}

/// The person of a valid Altinn person token with the portal scope, from person login's cookie.
async fn person_from_login(state: &AppState, headers: &HeaderMap) -> Option<PartyRow> {
    let token = cookie(headers, ALTINN_TOKEN_COOKIE)?;
    let caller = state.verifier.verify_person(token).await.ok()?;
    if !caller.has_scope(PORTAL_SCOPE) {
        return None;
    }
    match state.store.find_party(PartyKey::Id(caller.party_id)).await {
        Ok(Some(p)) if p.is_deleted == 0 && p.party_type == "person" => Some(p),
        _ => None,
    }
}

/// Sends the browser to person login, which comes back to `here`.
fn to_login(state: &AppState, language: Language, here: &str, cookies: Vec<String>) -> Response {
    if state.login.is_none() {
        return layout::bare_error(language, StatusCode::SERVICE_UNAVAILABLE, texts(language).login_unavailable);
    }
    let mut response = redirect(StatusCode::SEE_OTHER, &format!("/authentication/api/v1/authentication?goto={}", query_value(here)));
    for c in &cookies {
        append_cookie(&mut response, c);
    }
    response
}

pub(crate) fn public_origin(public_url: &str) -> String {
    match url::Url::parse(public_url) {
        Ok(u) => u.origin().ascii_serialization(),
        Err(_) => public_url.trim_end_matches('/').to_owned(),
    }
}

pub(crate) fn internal(language: Language, e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "portal: internal error");
    layout::bare_error(language, StatusCode::INTERNAL_SERVER_ERROR, &(texts(language).err_generic)("500"))
}
