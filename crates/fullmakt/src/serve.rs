//! `fullmakt serve`.

use std::net::SocketAddr;
use std::sync::Arc;

use clap::Args;
use fullmakt_http::{AppState, Metrics, Services};
use fullmakt_service::instance::{self, InstanceMode};
use fullmakt_service::login::relying_party::CALLBACK_PATH;
use fullmakt_service::login::{ClientSecret, LoginConfig, LoginService, OidcProvider, TestIdentityProvider, TestIdpClient};
use fullmakt_service::verify::altinn_issuer_from_public_url;
use fullmakt_service::{
    issuer_from_public_url, AccessTokenVerifier, AltinnTokenService, KeyRing, Store, StoreSystemUsers, TokenService, TrustedIssuer,
    TrustedIssuers,
};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::config::StoreArgs;
use crate::upkeep::Upkeep;

#[derive(Args, Debug)]
pub struct ServeArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Address to listen on.
    #[arg(long, env = "FULLMAKT_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// The URL clients reach this server at; the token issuer is this URL with a trailing slash.
    #[arg(long, env = "FULLMAKT_PUBLIC_URL", default_value = "http://127.0.0.1:8080")]
    pub public_url: String,
    /// Seed demo organisations, persons, roles, scopes and a vendor client (idempotent) and say
    /// how to use them. Implies --test-data (the demo persons have synthetic numbers).
    #[arg(long)]
    pub demo: bool,
    /// Test-data mode: accept synthetic person numbers (Tenor's month + 80). Never on a
    /// production instance.
    #[arg(long, env = "FULLMAKT_TEST_DATA", value_parser = clap::builder::BoolishValueParser::new())]
    pub test_data: bool,
    /// Another Maskinporten-style issuer whose access tokens the vendor APIs and the token
    /// exchange accept, as ISSUER=JWKS_URL (the exact `iss` value, then where its keys are
    /// published), e.g. https://test.maskinporten.no/=https://test.maskinporten.no/jwk.
    /// Repeatable; in the environment, several separated by spaces.
    #[arg(long = "trusted-issuer", env = "FULLMAKT_TRUSTED_ISSUERS", value_delimiter = ' ', value_name = "ISSUER=JWKS_URL")]
    pub trusted_issuers: Vec<String>,
    /// The OpenID Connect provider persons log in with, by its issuer (e.g. https://idporten.no
    /// or https://test.idporten.no); its discovery document is read from
    /// ISSUER/.well-known/openid-configuration. Without it, an instance with test data logs
    /// persons in through its built-in test identity provider, and one without has no login.
    #[arg(long, env = "FULLMAKT_OIDC_ISSUER", value_name = "URL")]
    pub oidc_issuer: Option<String>,
    /// fullmakt's client id at that provider (with the built-in test identity provider it
    /// defaults to `fullmakt`). Register PUBLIC_URL/authentication/api/v1/authentication/callback
    /// as its redirect URI.
    #[arg(long, env = "FULLMAKT_OIDC_CLIENT_ID", value_name = "ID")]
    pub oidc_client_id: Option<String>,
    /// A file holding the client secret (or set FULLMAKT_OIDC_CLIENT_SECRET; never on the command
    /// line, where every user of the machine can read it). Without a secret the client is public
    /// and relies on PKCE.
    #[arg(long, env = "FULLMAKT_OIDC_CLIENT_SECRET_FILE", value_name = "PATH")]
    pub oidc_client_secret_file: Option<std::path::PathBuf>,
    /// Where --demo writes the demo vendor's private key and settings.
    #[arg(long, env = "FULLMAKT_DEMO_DIR", default_value = "demo")]
    pub demo_dir: std::path::PathBuf,
    /// Log format: text or json.
    #[arg(long, env = "FULLMAKT_LOG_FORMAT", default_value = "text")]
    pub log_format: String,
}

pub async fn run(args: ServeArgs) -> Result<(), String> {
    // Held until the server stops, so buffered log lines are flushed on the way out.
    let _log_writer = init_logging(&args.log_format);
    let client_secret = read_client_secret(args.oidc_client_secret_file.as_deref())?;
    let (store, ring) = args.store.open().await?;
    let public_url = args.public_url.trim_end_matches('/').to_owned();
    if args.test_data || args.demo {
        tracing::warn!("test-data mode: synthetic person numbers are accepted; never run a production instance like this");
    }
    if args.demo {
        let report = crate::demo::seed(&store, &public_url, &args.demo_dir).await?;
        println!("{report}");
    }
    let trusted_issuers = args
        .trusted_issuers
        .iter()
        .filter(|s| !s.trim().is_empty())
        .map(|s| TrustedIssuer::parse(s))
        .collect::<Result<Vec<_>, _>>()?;
    let listener = TcpListener::bind(&args.listen).await.map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let started = std::time::Instant::now();
    let login = LoginOptions {
        oidc_issuer: args.oidc_issuer.clone(),
        client_id: args.oidc_client_id.clone(),
        client_secret,
    };
    let options = ServeOptions { public_url: public_url.clone(), test_data: args.test_data || args.demo, trusted_issuers, login };
    let server = start_with(store, ring, listener, options).await?;
    tracing::info!(seconds = started.elapsed().as_secs_f64(), "decision index ready");
    tracing::info!(addr = %server.addr, issuer = %issuer_from_public_url(&public_url), "fullmakt is listening");
    shutdown_signal().await;
    tracing::info!("shutting down");
    server.stop().await;
    Ok(())
}

/// Logs go to stderr through a writer thread that writes them in batches (`log_writer`).
fn init_logging(format: &str) -> crate::log_writer::LogWriterGuard {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_env("FULLMAKT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let ansi = std::io::stderr().is_terminal();
    let (writer, guard) = crate::log_writer::BatchedStderr::start();
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer).with_ansi(ansi);
    let _ = if format == "json" { builder.json().try_init() } else { builder.try_init() };
    guard
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
}

/// A running server; dropping it without `stop` leaves it running until the runtime ends.
pub struct Server {
    pub addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
    upkeep: Option<Upkeep>,
}

impl Server {
    /// Graceful stop: stops accepting, lets requests in flight finish.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
        if let Some(upkeep) = self.upkeep.take() {
            upkeep.stop().await;
        }
    }
}

/// How a server runs, beyond its store and keys.
#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    /// The public base URL; the issuers are built from it.
    pub public_url: String,
    /// Test-data mode (`--test-data`, `--demo`), recorded in the database for the CLI.
    pub test_data: bool,
    /// Other issuers whose Maskinporten tokens are accepted.
    pub trusted_issuers: Vec<TrustedIssuer>,
    /// Person login.
    pub login: LoginOptions,
}

/// The OpenID Connect provider for person login (`--oidc-*`).
#[derive(Debug, Clone, Default)]
pub struct LoginOptions {
    pub oidc_issuer: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<ClientSecret>,
}

/// The client id fullmakt's login uses at the built-in test identity provider by default.
pub const DEFAULT_TEST_CLIENT_ID: &str = "fullmakt";
/// The environment variable the client secret may come in.
pub const CLIENT_SECRET_VARIABLE: &str = "FULLMAKT_OIDC_CLIENT_SECRET";

/// The client secret from the environment or a file (not both); never from the command line.
fn read_client_secret(file: Option<&std::path::Path>) -> Result<Option<ClientSecret>, String> {
    let from_env = std::env::var(CLIENT_SECRET_VARIABLE).ok().and_then(|s| ClientSecret::new(&s));
    match (from_env, file) {
        (Some(_), Some(_)) => Err(format!("give the client secret in {CLIENT_SECRET_VARIABLE} or --oidc-client-secret-file, not both")),
        (Some(secret), None) => Ok(Some(secret)),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path).map_err(|e| format!("reading the client secret file {}: {e}", path.display()))?;
            ClientSecret::new(&text).map(Some).ok_or_else(|| format!("the client secret file {} is empty", path.display()))
        }
        (None, None) => Ok(None),
    }
}

/// Person login's two parts.
struct Login {
    /// The relying party, when there is a provider: the configured one, or with test data the
    /// built-in one.
    service: Option<Arc<LoginService>>,
    /// The built-in test identity provider, with test data.
    test_idp: Option<Arc<TestIdentityProvider>>,
}

/// The provider person login uses, from the options: checked before anything else starts.
fn login_provider(public_url: &str, test_data: bool, options: LoginOptions) -> Result<Option<OidcProvider>, String> {
    let client_id = options.client_id.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty());
    match options.oidc_issuer.map(|i| i.trim().to_owned()).filter(|i| !i.is_empty()) {
        Some(issuer) => {
            let url = url_of(&issuer).ok_or_else(|| format!("--oidc-issuer {issuer}: not an http(s) URL"))?;
            if url.scheme() == "http" {
                tracing::warn!(issuer = %issuer, "the identity provider is reached without TLS");
            }
            let client_id = client_id.ok_or("--oidc-issuer needs --oidc-client-id: fullmakt's client id at that provider")?;
            Ok(Some(OidcProvider { issuer, client_id, client_secret: options.client_secret, synthetic_only: false }))
        }
        None if test_data => Ok(Some(OidcProvider {
            issuer: TestIdentityProvider::issuer_for(public_url),
            client_id: client_id.unwrap_or_else(|| DEFAULT_TEST_CLIENT_ID.to_owned()),
            client_secret: options.client_secret,
            synthetic_only: true,
        })),
        None if client_id.is_some() || options.client_secret.is_some() => {
            Err("an OpenID Connect client id or secret is given but no --oidc-issuer (and no --test-data)".into())
        }
        None => Ok(None),
    }
}

fn wire_login(
    store: &Store,
    ring: &Arc<KeyRing>,
    altinn: &Arc<AltinnTokenService>,
    public_url: &str,
    test_data: bool,
    provider: Option<OidcProvider>,
) -> Result<Login, String> {
    let callback = format!("{public_url}{CALLBACK_PATH}");
    let test_idp = test_data.then(|| {
        // The test identity provider's one client is fullmakt's own login when it uses it;
        // otherwise a public client under the default id, for trying the provider by hand.
        let client = match &provider {
            Some(p) if p.synthetic_only => TestIdpClient { client_id: p.client_id.clone(), secret: p.client_secret.clone(), redirect_uris: vec![callback.clone()] },
            _ => TestIdpClient { client_id: DEFAULT_TEST_CLIENT_ID.to_owned(), secret: None, redirect_uris: vec![callback.clone()] },
        };
        Arc::new(TestIdentityProvider::new(store.clone(), ring.clone(), public_url, vec![client]))
    });
    let service = match provider {
        None => {
            tracing::info!("person login is off: no --oidc-issuer, and no test data for the built-in test identity provider");
            None
        }
        Some(provider) => {
            tracing::info!(issuer = %provider.issuer, client_id = %provider.client_id, client_secret = provider.client_secret.is_some(),
                redirect_uri = %callback, "person login");
            let http = Arc::new(crate::oidc_http::HyperOidcHttp::new()?);
            let config = LoginConfig { provider, public_url: public_url.to_owned() };
            Some(Arc::new(LoginService::new(store.clone(), altinn.clone(), http, config)))
        }
    };
    Ok(Login { service, test_idp })
}

fn url_of(text: &str) -> Option<url::Url> {
    url::Url::parse(text).ok().filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
}

/// [`start_with`] without test data or trusted issuers.
pub async fn start(store: Store, ring: KeyRing, listener: TcpListener, public_url: &str) -> Result<Server, String> {
    start_with(store, ring, listener, ServeOptions { public_url: public_url.to_owned(), ..ServeOptions::default() }).await
}

/// Records how the instance runs, wires the services over `store` (building the decision index
/// first) and serves them on `listener`.
pub async fn start_with(store: Store, ring: KeyRing, listener: TcpListener, options: ServeOptions) -> Result<Server, String> {
    let public_url = options.public_url.trim_end_matches('/').to_owned();
    let issuer = issuer_from_public_url(&public_url);
    let altinn_issuer = altinn_issuer_from_public_url(&public_url);
    let login_provider = login_provider(&public_url, options.test_data, options.login)?;
    for trusted in &options.trusted_issuers {
        if trusted.issuer == issuer || trusted.issuer == altinn_issuer {
            return Err(format!("--trusted-issuer {}: that is this server's own issuer", trusted.issuer));
        }
        if trusted.jwks_url.starts_with("http://") {
            tracing::warn!(issuer = %trusted.issuer, jwks_url = %trusted.jwks_url, "a trusted issuer's keys are fetched without TLS");
        }
        tracing::info!(issuer = %trusted.issuer, jwks_url = %trusted.jwks_url, "trusting another issuer's Maskinporten tokens");
    }
    instance::record_start(&store, &InstanceMode { test_data: options.test_data, public_url: public_url.clone() })
        .await
        .map_err(|e| format!("recording the instance's mode: {e}"))?;
    let catalogue = fullmakt_domain::Catalogue::embedded();
    fullmakt_service::access_management::ensure_platform_resources(&store)
        .await
        .map_err(|e| format!("creating the platform resources: {e}"))?;
    let index = fullmakt_service::decision_index::DecisionIndex::load(store.clone(), catalogue)
        .await
        .map_err(|e| format!("building the decision index: {e}"))?;
    let ring = Arc::new(ring);
    let tokens = Arc::new(TokenService::new(store.clone(), issuer.clone(), ring.clone(), Arc::new(StoreSystemUsers::new(store.clone()))));
    let audiences = vec![format!("{public_url}/api/v1"), format!("{public_url}/api/v1/"), issuer.clone()];
    let trusted = if options.trusted_issuers.is_empty() {
        TrustedIssuers::none()
    } else {
        TrustedIssuers::new(options.trusted_issuers, Arc::new(crate::jwks_fetch::HttpJwksFetcher::new()?))
    };
    let verifier =
        Arc::new(AccessTokenVerifier::new(store.clone(), issuer, ring.clone(), audiences).with_trusted_issuers(Arc::new(trusted)));
    let altinn = Arc::new(AltinnTokenService::new(store.clone(), ring.clone(), verifier.clone()));
    let Login { service: login, test_idp } = wire_login(&store, &ring, &altinn, &public_url, options.test_data, login_provider)?;
    let pdp = Arc::new(fullmakt_service::pdp::DecisionPoint::new(store.clone(), catalogue, Arc::new(index)));
    let gates = Arc::new(fullmakt_service::access_management::AccessManagement::new(pdp.clone()));
    let requests = Arc::new(fullmakt_service::requests::RequestSettings::new(&public_url, fullmakt_service::requests::DEFAULT_REQUEST_TIMEOUT_DAYS));
    let state = AppState::new(Services {
        store: store.clone(),
        tokens,
        verifier,
        altinn,
        metrics: Arc::new(Metrics::default()),
        pdp,
        catalogue,
        gates,
        requests,
        public_url,
        login,
        test_idp,
    });
    let app = fullmakt_http::router(state);
    let addr = listener.local_addr().expect("a bound listener has an address");
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        // Handed to axum::serve as a plain Router, each accepted connection would get its own
        // deep copy of every route (axum re-applies the state per connection): about 200 KiB
        // and the CPU to build it, per connection. The make-service shares one router.
        let served = axum::serve(listener, app.into_make_service()).with_graceful_shutdown(async {
            let _ = rx.await;
        });
        if let Err(e) = served.await {
            tracing::error!(error = %e, "server stopped with an error");
        }
    });
    let upkeep = Upkeep::start(store).map_err(|e| format!("starting the upkeep thread: {e}"))?;
    Ok(Server { addr, shutdown: Some(tx), task, upkeep: Some(upkeep) })
}
