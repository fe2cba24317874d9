//! Backups of a site into its server's restic repository: listed from the
//! cache; made, checked, drilled and restored as jobs with their progress
//! on a channel.

use chom_core::db::BackupRecord;
use chom_core::jobs::JobEvent;
use chom_core::{
    BackupId, CheckReport, PathRestoreReport, PathRestoreRequest, RestoreReport, RestoreRequest, Retention,
    RetentionPlan, ScheduleInput, ScheduleView, SiteBackups,
};
use tauri::ipc::Channel;
use tauri::State;

use super::blocking;
use super::fleet::Ticket;
use crate::{AppState, UiError};

/// The site's backups (all sites' when `domain` is none), newest first.
#[tauri::command]
#[specta::specta]
pub async fn backup_list(state: State<'_, AppState>, domain: Option<String>) -> Result<Vec<BackupRecord>, UiError> {
    blocking(state.core()?, move |c| c.backups().list(domain.as_deref(), 200)).await
}

#[tauri::command]
#[specta::specta]
pub async fn backup_create(
    state: State<'_, AppState>,
    domain: String,
    ticket: String,
    on_event: Channel<JobEvent>,
) -> Result<BackupRecord, UiError> {
    let ticket = Ticket::new(&state, ticket);
    Ok(state.core()?.backups().create(&domain, &ticket.control(on_event)).await?)
}

/// Restores backup `id` into scratch copies on its server, checks and
/// counts them, removes them: passed, it is restore-tested.
#[tauri::command]
#[specta::specta]
pub async fn backup_drill(
    state: State<'_, AppState>,
    id: BackupId,
    ticket: String,
    on_event: Channel<JobEvent>,
) -> Result<BackupRecord, UiError> {
    let ticket = Ticket::new(&state, ticket);
    Ok(state.core()?.backups().drill(id, &ticket.control(on_event)).await?)
}

/// Reads `read_percent` of the server's repository back; backups made
/// before a check that passed are good.
#[tauri::command]
#[specta::specta]
pub async fn backup_check(
    state: State<'_, AppState>,
    server: String,
    read_percent: u8,
    ticket: String,
    on_event: Channel<JobEvent>,
) -> Result<CheckReport, UiError> {
    let ticket = Ticket::new(&state, ticket);
    Ok(state.core()?.backups().check(&server, read_percent, &ticket.control(on_event)).await?)
}

/// Restores backup `id` into its site (whole, or the database alone); a
/// failure at any step leaves the site serving what it served.
#[tauri::command]
#[specta::specta]
pub async fn backup_restore(
    state: State<'_, AppState>,
    id: BackupId,
    request: RestoreRequest,
    ticket: String,
    on_event: Channel<JobEvent>,
) -> Result<RestoreReport, UiError> {
    let ticket = Ticket::new(&state, ticket);
    Ok(state.core()?.backups().restore(id, &request, &ticket.control(on_event)).await?)
}

/// Puts one file or folder of backup `id` back beside its site's own.
#[tauri::command]
#[specta::specta]
pub async fn backup_restore_path(
    state: State<'_, AppState>,
    id: BackupId,
    request: PathRestoreRequest,
    ticket: String,
    on_event: Channel<JobEvent>,
) -> Result<PathRestoreReport, UiError> {
    let ticket = Ticket::new(&state, ticket);
    Ok(state.core()?.backups().restore_path(id, &request, &ticket.control(on_event)).await?)
}

/// Switches the site back to what served before its last restore (again:
/// forth to the restored state).
#[tauri::command]
#[specta::specta]
pub async fn backup_undo(
    state: State<'_, AppState>,
    domain: String,
    ticket: String,
    on_event: Channel<JobEvent>,
) -> Result<RestoreReport, UiError> {
    let ticket = Ticket::new(&state, ticket);
    Ok(state.core()?.backups().undo(&domain, &ticket.control(on_event)).await?)
}

/// Every site's newest good and restore-tested backup, its schedule and
/// its coverage, from the cache.
#[tauri::command]
#[specta::specta]
pub async fn backup_overview(state: State<'_, AppState>) -> Result<Vec<SiteBackups>, UiError> {
    blocking(state.core()?, move |c| c.backups().overview(None)).await
}

/// The backup schedules in the cache, with their last runs and misses.
#[tauri::command]
#[specta::specta]
pub async fn backup_schedules(state: State<'_, AppState>) -> Result<Vec<ScheduleView>, UiError> {
    blocking(state.core()?, move |c| c.backups().schedules(None)).await
}

/// Installs the site's schedule on its server (`input` none: removes it).
#[tauri::command]
#[specta::specta]
pub async fn backup_schedule(
    state: State<'_, AppState>,
    domain: String,
    input: Option<ScheduleInput>,
    ticket: String,
    on_event: Channel<JobEvent>,
) -> Result<Option<ScheduleView>, UiError> {
    let ticket = Ticket::new(&state, ticket);
    Ok(state.core()?.backups().schedule(&domain, input.as_ref(), &ticket.control(on_event)).await?)
}

/// What `rules` keep and remove of the site's backups; with `dry_run`
/// false, the removals are made.
#[tauri::command]
#[specta::specta]
pub async fn backup_forget(
    state: State<'_, AppState>,
    domain: String,
    rules: Retention,
    dry_run: bool,
    ticket: String,
    on_event: Channel<JobEvent>,
) -> Result<RetentionPlan, UiError> {
    let ticket = Ticket::new(&state, ticket);
    Ok(state.core()?.backups().forget(&domain, &rules, dry_run, &ticket.control(on_event)).await?)
}
