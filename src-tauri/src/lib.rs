//! CHOM Desktop: a thin layer of Tauri commands over chom-core. No SSH, SQL
//! or business rule lives here; each command is one core call and a mapping.

mod commands;
mod error;
mod events;
mod logs;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chom_core::Chom;
use tauri_specta::{collect_commands, collect_events, Builder};
use tokio_util::sync::CancellationToken;

pub use error::UiError;

/// What the commands reach: the core (or why it could not open), and the
/// cancel handles of running jobs, keyed by the ticket the UI gave them.
pub struct AppState {
    core: Result<Arc<Chom>, UiError>,
    running: Mutex<HashMap<String, CancellationToken>>,
}

impl AppState {
    fn core(&self) -> Result<Arc<Chom>, UiError> {
        self.core.clone()
    }
}

/// Every command the UI may call; the TypeScript bindings come from here.
pub fn specta_builder() -> Builder<tauri::Wry> {
    use commands::{backups, fleet, history, import, keys, pick, servers, sites, trust};
    Builder::<tauri::Wry>::new()
        .events(collect_events![events::JobChanged, events::JobsReconciled, events::HostKeyAlert])
        .commands(collect_commands![
            servers::fleet_page,
            servers::fleet_names,
            servers::server_detail,
            servers::server_add,
            servers::server_edit,
            servers::server_remove,
            servers::server_resume,
            keys::key_list,
            keys::key_generate,
            keys::key_import,
            keys::key_delete,
            keys::key_agent_list,
            keys::key_add_agent,
            keys::key_rotate,
            keys::key_rotations,
            trust::host_key_check,
            trust::host_key_accept,
            trust::server_install_key,
            fleet::fleet_probe,
            fleet::fleet_run,
            fleet::job_cancel,
            history::job_list,
            history::job_log,
            history::job_reconcile,
            history::job_resume,
            history::job_failed_servers,
            history::audit_list,
            sites::site_defaults,
            sites::site_list,
            sites::site_detail,
            sites::site_create,
            sites::site_deploy,
            sites::site_rollback,
            sites::site_releases,
            sites::site_set_enabled,
            sites::site_delete,
            sites::site_repair,
            sites::site_set_dashboard_updates,
            sites::server_setup,
            sites::ssl_issue,
            sites::ssl_status,
            backups::backup_list,
            backups::backup_create,
            backups::backup_check,
            backups::backup_drill,
            backups::backup_restore,
            backups::backup_restore_path,
            backups::backup_undo,
            backups::backup_overview,
            backups::backup_schedules,
            backups::backup_schedule,
            backups::backup_forget,
            pick::pick_path,
            import::import_plan,
        ])
}

pub fn run() {
    let data_dir = chom_core::paths::default_data_dir();
    chom_core::paths::private_umask();
    // A failure here shows when the core opens the same folder below.
    let _ = chom_core::paths::secure_data_dir(&data_dir);
    let _log_guard = logs::init(&data_dir);
    // Open inside Tauri's runtime, so the SSH pool's idle reaper runs there.
    let core = tauri::async_runtime::block_on(async { Chom::open(&data_dir) }).map(Arc::new).map_err(|e| {
        tracing::error!(error = %e, "cannot open the CHOM data directory");
        UiError::from(e)
    });
    let builder = specta_builder();
    let opened = core.clone().ok();
    tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .manage(AppState { core, running: Mutex::default() })
        .invoke_handler(builder.invoke_handler())
        .setup(move |app| {
            builder.mount_events(app);
            if let Some(core) = &opened {
                events::start(app.handle(), core);
            }
            Ok(())
        })
        .run(tauri::generate_context!("tauri.conf.json"))
        .expect("the CHOM window could not start");
}

#[cfg(test)]
mod tests {
    use specta_typescript::Typescript;

    /// The committed bindings match the Rust commands and types; run with
    /// CHOM_UPDATE_BINDINGS=1 to regenerate them.
    #[test]
    fn bindings_are_fresh() {
        let committed = concat!(env!("CARGO_MANIFEST_DIR"), "/ui/src/api/bindings.ts");
        let dir = tempfile::tempdir().unwrap();
        let fresh = dir.path().join("bindings.ts");
        super::specta_builder().export(Typescript::default(), &fresh).unwrap();
        let fresh = std::fs::read_to_string(fresh).unwrap();
        if std::env::var_os("CHOM_UPDATE_BINDINGS").is_some() {
            std::fs::write(committed, &fresh).unwrap();
        }
        let current = std::fs::read_to_string(committed).unwrap_or_default();
        assert!(
            current == fresh,
            "ui/src/api/bindings.ts is stale: run `CHOM_UPDATE_BINDINGS=1 cargo test -p chom-desktop bindings_are_fresh`"
        );
    }
}
