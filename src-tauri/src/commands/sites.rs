//! Sites, deploys, rollbacks, server setup and certificates. Each command
//! is one chom-core call; long ones stream their steps and upload progress
//! over a channel.

use chom_core::jobs::JobEvent;
use chom_core::{
    AcmeDirectory, DeployReport, ReleaseRequest, Releases, RepairReport, SetupReport, SiteDefaults, SiteDetail,
    SiteLaunch, SiteRequest, SiteView, SslStatus,
};
use tauri::ipc::Channel;
use tauri::State;

use super::blocking;
use super::fleet::Ticket;
use crate::{AppState, UiError};

fn given(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
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
    blocking(state.core()?, |c| c.sites().list_sites(None)).await
}

#[tauri::command]
#[specta::specta]
pub async fn site_detail(state: State<'_, AppState>, domain: String) -> Result<SiteDetail, UiError> {
    blocking(state.core()?, move |c| c.sites().site_detail(&domain)).await
}

/// Creates a site and deploys its first release (a folder; WordPress: its
/// tarball or the official download), then installs WordPress.
#[tauri::command]
#[specta::specta]
pub async fn site_create(
    state: State<'_, AppState>,
    request: SiteRequest,
    ticket: String,
    on_event: Channel<JobEvent>,
) -> Result<SiteLaunch, UiError> {
    let ticket = Ticket::new(&state, ticket);
    Ok(state.core()?.sites().launch(&request, &ticket.control(on_event)).await?)
}

/// Deploys a folder on this computer, or a git ref, as the site's next
/// release; `job_cancel(ticket)` stops it.
#[tauri::command]
#[specta::specta]
pub async fn site_deploy(
    state: State<'_, AppState>,
    domain: String,
    request: ReleaseRequest,
    ticket: String,
    on_event: Channel<JobEvent>,
) -> Result<DeployReport, UiError> {
    let ticket = Ticket::new(&state, ticket);
    Ok(state.core()?.deploys().deploy_release(&domain, &request, &ticket.control(on_event)).await?)
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

/// A certificate from `acme` (Let's Encrypt, its staging, or another ACME
/// server), registered with `email` when given.
#[tauri::command]
#[specta::specta]
pub async fn ssl_issue(
    state: State<'_, AppState>,
    domain: String,
    acme: AcmeDirectory,
    email: Option<String>,
    ticket: String,
    on_event: Channel<JobEvent>,
) -> Result<SslStatus, UiError> {
    let ticket = Ticket::new(&state, ticket);
    let ctl = ticket.control(on_event);
    Ok(state.core()?.sites().issue_certificate(&domain, &acme, email.as_deref(), &ctl).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn ssl_status(state: State<'_, AppState>, domain: Option<String>) -> Result<Vec<SslStatus>, UiError> {
    Ok(state.core()?.sites().certificate_status(domain.as_deref()).await?)
}
