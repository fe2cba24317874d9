//! Sites, deploys, rollbacks, server setup and certificates. Each command
//! is one chom-core call; long ones stream their steps and upload progress
//! over a channel.

use std::path::PathBuf;

use chom_core::jobs::JobEvent;
use chom_core::{
    AcmeDirectory, DeployOptions, DeployReport, DeploySource, Releases, RepairReport, SetupReport, SiteDefaults,
    SiteDetail, SiteInput, SiteKind, SiteLaunch, SiteView, SourceChoice, SslStatus, WordpressSetup, WORDPRESS_URL,
};
use serde::Deserialize;
use tauri::ipc::Channel;
use tauri::State;

use super::fleet::Ticket;
use crate::{AppState, UiError};

/// What the new-site form sends. Empty strings are "not given".
#[derive(Debug, Clone, Deserialize, specta::Type)]
pub struct SiteForm {
    pub domain: String,
    pub kind: String,
    /// Empty: CHOM places the site.
    pub server: String,
    pub php: String,
    pub aliases: Vec<String>,
    /// The first release: a folder on this computer, or a git repository
    /// and ref the server fetches (at most one).
    pub folder: String,
    pub git_url: String,
    pub git_ref: String,
    /// WordPress: a .tar.gz on this computer; empty downloads the official one on the server.
    pub tarball: String,
    pub wp_title: String,
    pub wp_admin: String,
    pub wp_email: String,
    pub expect: String,
}

/// What the deploy form sends: a folder on this computer, or a git
/// repository and ref the server fetches.
#[derive(Debug, Clone, Deserialize, specta::Type)]
pub struct DeployForm {
    pub folder: String,
    pub git_url: String,
    pub git_ref: String,
    /// Text the health check's page must contain (empty: any 2xx/3xx).
    pub expect: String,
}

fn given(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

fn choice(folder: &str, git_url: &str, git_ref: &str, tarball: &str) -> SourceChoice {
    SourceChoice {
        folder: given(folder).map(PathBuf::from),
        tarball: given(tarball).map(PathBuf::from),
        git_url: given(git_url),
        // A ref alone (the form shows the default one) is no source.
        git_ref: given(git_url).and(given(git_ref)),
        strip: None,
    }
}

fn options(source: DeploySource, expect: &str) -> DeployOptions {
    DeployOptions { health_text: given(expect), ..DeployOptions::new(source) }
}

/// What a new site's form starts with: the core's defaults.
#[tauri::command]
#[specta::specta]
pub fn site_defaults() -> SiteDefaults {
    chom_core::site_defaults()
}

#[tauri::command]
#[specta::specta]
pub async fn site_list(state: State<'_, AppState>) -> Result<Vec<SiteView>, UiError> {
    Ok(state.core()?.sites().list_sites(None)?)
}

#[tauri::command]
#[specta::specta]
pub async fn site_detail(state: State<'_, AppState>, domain: String) -> Result<SiteDetail, UiError> {
    Ok(state.core()?.sites().site_detail(&domain)?)
}

/// Creates a site and deploys its first release (a folder; WordPress: its
/// tarball or the official download), then installs WordPress.
#[tauri::command]
#[specta::specta]
pub async fn site_create(
    state: State<'_, AppState>,
    form: SiteForm,
    ticket: String,
    on_event: Channel<JobEvent>,
) -> Result<SiteLaunch, UiError> {
    let core = state.core()?;
    let kind = SiteKind::parse(&form.kind)
        .ok_or_else(|| UiError::new(chom_core::ErrorCode::InvalidInput, "pick a kind: static, wordpress or laravel"))?;
    let input = SiteInput {
        domain: form.domain.clone(),
        kind,
        server: given(&form.server),
        php: given(&form.php),
        aliases: form.aliases.iter().filter_map(|a| given(a)).collect(),
    };
    let source = match choice(&form.folder, &form.git_url, &form.git_ref, &form.tarball).resolve(kind)? {
        None if kind == SiteKind::Wordpress => {
            Some(DeploySource::Download { url: WORDPRESS_URL.into(), sha1: None, strip: 1 })
        }
        s => s,
    };
    let wordpress = (kind == SiteKind::Wordpress).then(|| {
        WordpressSetup::new(form.domain.trim(), given(&form.wp_title), given(&form.wp_admin), given(&form.wp_email))
    });
    let opts = source.map(|s| options(s, &form.expect));
    let ticket = Ticket::new(&state, ticket);
    Ok(core.sites().launch_site(&input, opts.as_ref(), wordpress.as_ref(), &ticket.control(on_event)).await?)
}

/// Deploys a folder on this computer, or a git ref, as the site's next
/// release; `job_cancel(ticket)` stops it.
#[tauri::command]
#[specta::specta]
pub async fn site_deploy(
    state: State<'_, AppState>,
    domain: String,
    form: DeployForm,
    ticket: String,
    on_event: Channel<JobEvent>,
) -> Result<DeployReport, UiError> {
    let core = state.core()?;
    let kind = core.sites().site_detail(&domain)?.site.kind;
    let source = choice(&form.folder, &form.git_url, &form.git_ref, "").resolve(kind)?.ok_or_else(|| {
        UiError::new(
            chom_core::ErrorCode::InvalidInput,
            "give a folder on this computer, or a git repository and its ref",
        )
    })?;
    let ticket = Ticket::new(&state, ticket);
    Ok(core.deploys().deploy(&domain, &options(source, &form.expect), &ticket.control(on_event)).await?)
}

/// Switches back to `to`, or to the release before the live one.
#[tauri::command]
#[specta::specta]
pub async fn site_rollback(
    state: State<'_, AppState>,
    domain: String,
    to: Option<String>,
    ticket: String,
    on_event: Channel<JobEvent>,
) -> Result<Releases, UiError> {
    let to = to.map(|t| chom_core::validate::ReleaseId::parse(&t)).transpose().map_err(chom_core::Error::from)?;
    Ok(state.core()?.deploys().rollback(&domain, to.as_ref(), &Ticket::new(&state, ticket).control(on_event)).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn site_releases(state: State<'_, AppState>, domain: String) -> Result<Releases, UiError> {
    Ok(state.core()?.deploys().site_releases(&domain).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn site_set_enabled(
    state: State<'_, AppState>,
    domain: String,
    enabled: bool,
    ticket: String,
    on_event: Channel<JobEvent>,
) -> Result<SiteView, UiError> {
    Ok(state.core()?.sites().set_site_enabled(&domain, enabled, &Ticket::new(&state, ticket).control(on_event)).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn site_delete(
    state: State<'_, AppState>,
    domain: String,
    ticket: String,
    on_event: Channel<JobEvent>,
) -> Result<(), UiError> {
    Ok(state.core()?.sites().delete_site(&domain, &Ticket::new(&state, ticket).control(on_event)).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn site_set_dashboard_updates(
    state: State<'_, AppState>,
    domain: String,
    on: bool,
    ticket: String,
    on_event: Channel<JobEvent>,
) -> Result<SiteView, UiError> {
    Ok(state.core()?.sites().set_dashboard_updates(&domain, on, &Ticket::new(&state, ticket).control(on_event)).await?)
}

/// Brings the site to CHOM's layout on its server; what changed, and what
/// was as it should be.
#[tauri::command]
#[specta::specta]
pub async fn site_repair(
    state: State<'_, AppState>,
    domain: String,
    ticket: String,
    on_event: Channel<JobEvent>,
) -> Result<RepairReport, UiError> {
    Ok(state.core()?.sites().repair_site(&domain, &Ticket::new(&state, ticket).control(on_event)).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn server_setup(
    state: State<'_, AppState>,
    name: String,
    php: String,
    ticket: String,
    on_event: Channel<JobEvent>,
) -> Result<SetupReport, UiError> {
    let php = given(&php).unwrap_or_else(|| chom_core::validate::PhpVersion::DEFAULT.into());
    Ok(state.core()?.servers().setup_server(&name, &php, &Ticket::new(&state, ticket).control(on_event)).await?)
}

/// Where a certificate comes from: `acme_url` empty is Let's Encrypt (or
/// its staging with `staging`).
#[derive(Debug, Clone, Deserialize, specta::Type)]
pub struct SslForm {
    pub acme_url: String,
    /// A PEM bundle on this computer that signs a private ACME server.
    pub acme_ca: String,
    pub staging: bool,
    pub email: String,
}

#[tauri::command]
#[specta::specta]
pub async fn ssl_issue(
    state: State<'_, AppState>,
    domain: String,
    form: SslForm,
    ticket: String,
    on_event: Channel<JobEvent>,
) -> Result<SslStatus, UiError> {
    let SslForm { acme_url, acme_ca, staging, email } = form;
    let acme = match (given(&acme_url), staging) {
        (Some(url), _) => AcmeDirectory::Custom { url, ca_bundle: given(&acme_ca).map(PathBuf::from) },
        (None, true) => AcmeDirectory::Staging,
        (None, false) => AcmeDirectory::LetsEncrypt,
    };
    let ticket = Ticket::new(&state, ticket);
    let ctl = ticket.control(on_event);
    Ok(state.core()?.sites().issue_certificate(&domain, &acme, given(&email).as_deref(), &ctl).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn ssl_status(state: State<'_, AppState>, domain: Option<String>) -> Result<Vec<SslStatus>, UiError> {
    Ok(state.core()?.sites().certificate_status(domain.as_deref()).await?)
}
