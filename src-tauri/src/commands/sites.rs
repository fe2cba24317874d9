//! Sites, deploys, rollbacks, server setup and certificates. Each command
//! is one chom-core call; long ones stream their steps and upload progress
//! over a channel.

use std::path::PathBuf;

use chom_core::{
    AcmeDirectory, DeployOptions, DeployRecord, DeploySource, SiteInput, SiteKind, SiteRecord, SourceChoice, SslStatus,
    WordpressSetup, WORDPRESS_URL,
};
use serde::{Deserialize, Serialize};
use tauri::ipc::Channel;
use tauri::State;

use super::fleet::{JobProgress, Ticket};
use crate::{AppState, UiError};

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SiteRow {
    pub domain: String,
    pub kind: String,
    pub server: String,
    pub aliases: Vec<String>,
    pub php_version: Option<String>,
    pub enabled: bool,
    pub current_release: Option<String>,
    /// RFC 3339.
    pub ssl_expires_at: Option<String>,
    pub ssl_days_left: Option<i32>,
    /// Under chom-core's warning threshold (or expired).
    pub ssl_expiring: bool,
    /// WordPress: its dashboard may update plugins and themes.
    pub dashboard_updates: bool,
}

impl From<SiteRecord> for SiteRow {
    fn from(s: SiteRecord) -> Self {
        let days = s.ssl_expires_at.map(chom_core::days_left);
        SiteRow {
            domain: s.domain.to_string(),
            kind: s.kind.as_str().to_owned(),
            server: s.server.to_string(),
            aliases: s.aliases.iter().map(ToString::to_string).collect(),
            php_version: s.php_version,
            enabled: s.enabled,
            dashboard_updates: s.dashboard_updates,
            current_release: s.current_release,
            ssl_expires_at: s.ssl_expires_at.map(|e| e.to_rfc3339()),
            ssl_days_left: days.map(|d| d as i32),
            ssl_expiring: days.is_some_and(chom_core::is_expiring),
        }
    }
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct DeployRow {
    pub kind: String,
    pub release: String,
    pub source: String,
    pub state: String,
    pub step: String,
    pub message: String,
    pub started_at: String,
}

impl From<DeployRecord> for DeployRow {
    fn from(d: DeployRecord) -> Self {
        DeployRow {
            kind: d.kind,
            release: d.release_id,
            source: d.source,
            state: d.state.as_str().to_owned(),
            step: d.step,
            message: d.message,
            started_at: d.started_at.to_rfc3339(),
        }
    }
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SiteDetailRow {
    pub site: SiteRow,
    pub deploys: Vec<DeployRow>,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ReleasesRow {
    pub current: Option<String>,
    pub releases: Vec<String>,
}

/// What the new-site form sends. Empty strings are "not given".
#[derive(Debug, Clone, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
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
#[serde(rename_all = "camelCase")]
pub struct DeployForm {
    pub folder: String,
    pub git_url: String,
    pub git_ref: String,
    /// Text the health check's page must contain (empty: any 2xx/3xx).
    pub expect: String,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SiteLaunchRow {
    pub site: SiteRow,
    pub placement: Option<String>,
    pub release: Option<String>,
    pub wordpress_admin: Option<String>,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct DeployResultRow {
    pub release: String,
    pub previous: Option<String>,
    pub health_status: Option<String>,
    /// Files streamed, and files the server reused from the live release.
    pub sent_files: u32,
    pub reused_files: u32,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SetupRow {
    pub changed: Vec<String>,
    pub unchanged: Vec<String>,
    pub login_verified: bool,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SslRow {
    pub domain: String,
    pub server: String,
    pub expires_at: Option<String>,
    pub days_left: Option<i32>,
    pub expiring: bool,
    pub fresh: bool,
    pub error: Option<String>,
}

impl From<SslStatus> for SslRow {
    fn from(s: SslStatus) -> Self {
        SslRow {
            domain: s.domain,
            server: s.server,
            expires_at: s.expires_at.map(|e| e.to_rfc3339()),
            days_left: s.days_left.map(|d| d as i32),
            expiring: s.expiring,
            fresh: s.fresh,
            error: s.error,
        }
    }
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
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SiteDefaultsRow {
    pub kinds: Vec<String>,
    pub php_version: String,
    pub git_ref: String,
    pub wordpress_admin: String,
}

#[tauri::command]
#[specta::specta]
pub fn site_defaults() -> SiteDefaultsRow {
    let d = chom_core::site_defaults();
    SiteDefaultsRow {
        kinds: d.kinds.into_iter().map(str::to_owned).collect(),
        php_version: d.php_version.to_owned(),
        git_ref: d.git_ref.to_owned(),
        wordpress_admin: d.wordpress_admin.to_owned(),
    }
}

#[tauri::command]
#[specta::specta]
pub async fn site_list(state: State<'_, AppState>) -> Result<Vec<SiteRow>, UiError> {
    Ok(state.core()?.sites().list_sites(None)?.into_iter().map(SiteRow::from).collect())
}

#[tauri::command]
#[specta::specta]
pub async fn site_detail(state: State<'_, AppState>, domain: String) -> Result<SiteDetailRow, UiError> {
    let d = state.core()?.sites().site_detail(&domain)?;
    Ok(SiteDetailRow { site: d.site.into(), deploys: d.deploys.into_iter().map(DeployRow::from).collect() })
}

/// Creates a site and deploys its first release (a folder; WordPress: its
/// tarball or the official download), then installs WordPress.
#[tauri::command]
#[specta::specta]
pub async fn site_create(
    state: State<'_, AppState>,
    form: SiteForm,
    ticket: String,
    on_event: Channel<JobProgress>,
) -> Result<SiteLaunchRow, UiError> {
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
    let launch = core.sites().launch_site(&input, opts.as_ref(), wordpress.as_ref(), &ticket.control(on_event)).await?;
    Ok(SiteLaunchRow {
        site: launch.created.site.into(),
        placement: launch.created.placement,
        release: launch.deploy.map(|d| d.release),
        wordpress_admin: launch.wordpress_admin,
    })
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
    on_event: Channel<JobProgress>,
) -> Result<DeployResultRow, UiError> {
    let core = state.core()?;
    let kind = core.sites().site_detail(&domain)?.site.kind;
    let source = choice(&form.folder, &form.git_url, &form.git_ref, "").resolve(kind)?.ok_or_else(|| {
        UiError::new(
            chom_core::ErrorCode::InvalidInput,
            "give a folder on this computer, or a git repository and its ref",
        )
    })?;
    let ticket = Ticket::new(&state, ticket);
    let r = core.deploys().deploy(&domain, &options(source, &form.expect), &ticket.control(on_event)).await?;
    Ok(DeployResultRow {
        release: r.release,
        previous: r.previous,
        health_status: r.health_status,
        sent_files: r.sent_files as u32,
        reused_files: r.reused_files as u32,
    })
}

/// Switches back to `to`, or to the release before the live one.
#[tauri::command]
#[specta::specta]
pub async fn site_rollback(
    state: State<'_, AppState>,
    domain: String,
    to: Option<String>,
    ticket: String,
    on_event: Channel<JobProgress>,
) -> Result<ReleasesRow, UiError> {
    let r = state
        .core()?
        .deploys()
        .rollback(&domain, to.as_deref(), &Ticket::new(&state, ticket).control(on_event))
        .await?;
    Ok(ReleasesRow { current: r.current, releases: r.releases })
}

#[tauri::command]
#[specta::specta]
pub async fn site_releases(state: State<'_, AppState>, domain: String) -> Result<ReleasesRow, UiError> {
    let r = state.core()?.deploys().site_releases(&domain).await?;
    Ok(ReleasesRow { current: r.current, releases: r.releases })
}

#[tauri::command]
#[specta::specta]
pub async fn site_set_enabled(
    state: State<'_, AppState>,
    domain: String,
    enabled: bool,
    ticket: String,
    on_event: Channel<JobProgress>,
) -> Result<SiteRow, UiError> {
    Ok(state
        .core()?
        .sites()
        .set_site_enabled(&domain, enabled, &Ticket::new(&state, ticket).control(on_event))
        .await?
        .into())
}

#[tauri::command]
#[specta::specta]
pub async fn site_delete(
    state: State<'_, AppState>,
    domain: String,
    ticket: String,
    on_event: Channel<JobProgress>,
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
    on_event: Channel<JobProgress>,
) -> Result<SiteRow, UiError> {
    Ok(state
        .core()?
        .sites()
        .set_dashboard_updates(&domain, on, &Ticket::new(&state, ticket).control(on_event))
        .await?
        .into())
}

/// Brings the site to CHOM's layout on its server; what changed, and what
/// was as it should be.
#[tauri::command]
#[specta::specta]
pub async fn site_repair(
    state: State<'_, AppState>,
    domain: String,
    ticket: String,
    on_event: Channel<JobProgress>,
) -> Result<SetupRow, UiError> {
    let r = state.core()?.sites().repair_site(&domain, &Ticket::new(&state, ticket).control(on_event)).await?;
    Ok(SetupRow { changed: r.changed, unchanged: r.unchanged, login_verified: false })
}

#[tauri::command]
#[specta::specta]
pub async fn server_setup(
    state: State<'_, AppState>,
    name: String,
    php: String,
    ticket: String,
    on_event: Channel<JobProgress>,
) -> Result<SetupRow, UiError> {
    let php = given(&php).unwrap_or_else(|| chom_core::validate::PhpVersion::DEFAULT.into());
    let r = state.core()?.servers().setup_server(&name, &php, &Ticket::new(&state, ticket).control(on_event)).await?;
    Ok(SetupRow { changed: r.changed, unchanged: r.unchanged, login_verified: r.login_verified })
}

/// Where a certificate comes from: `acme_url` empty is Let's Encrypt (or
/// its staging with `staging`).
#[derive(Debug, Clone, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
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
    on_event: Channel<JobProgress>,
) -> Result<SslRow, UiError> {
    let SslForm { acme_url, acme_ca, staging, email } = form;
    let acme = match (given(&acme_url), staging) {
        (Some(url), _) => AcmeDirectory::Custom { url, ca_bundle: given(&acme_ca).map(PathBuf::from) },
        (None, true) => AcmeDirectory::Staging,
        (None, false) => AcmeDirectory::LetsEncrypt,
    };
    let ticket = Ticket::new(&state, ticket);
    let ctl = ticket.control(on_event);
    let st = state.core()?.sites().issue_certificate(&domain, &acme, given(&email).as_deref(), &ctl).await?;
    Ok(st.into())
}

#[tauri::command]
#[specta::specta]
pub async fn ssl_status(state: State<'_, AppState>, domain: Option<String>) -> Result<Vec<SslRow>, UiError> {
    Ok(state.core()?.sites().certificate_status(domain.as_deref()).await?.into_iter().map(SslRow::from).collect())
}
