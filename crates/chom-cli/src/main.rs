//! `chom`: the CHOM core from the command line.

mod args;
mod backup_args;
mod commands;
mod hint;
mod import_args;
mod logging;
mod output;
mod paint;
mod reference;
mod secret_input;

use clap::Parser;

use args::{Cli, Command};
use std::sync::Arc;
use std::time::Duration;

use chom_core::secrets::OsKeyring;
use chom_core::ssh::SshConfig;
use chom_core::{Chom, Error};

fn main() {
    let cli = Cli::parse();
    paint::init(cli.color);
    // What needs no data directory: written and done.
    match &cli.command {
        Command::Completions { shell } => std::process::exit(reference::completions(*shell)),
        Command::Man { dir } => std::process::exit(reference::man(dir.as_deref())),
        Command::Schema => std::process::exit(reference::schema(cli.json)),
        _ => {}
    }
    let data_dir = cli.data_dir.clone().unwrap_or_else(chom_core::paths::default_data_dir);
    chom_core::paths::private_umask();
    if let Err(e) = chom_core::paths::secure_data_dir(&data_dir) {
        eprintln!("chom: cannot prepare the data directory {}: {e}", data_dir.display());
        std::process::exit(9);
    }
    let _log_guard = logging::init(&data_dir, cli.verbose);
    let as_json = cli.json;
    let ssh = SshConfig {
        connect_timeout: Duration::from_secs(cli.connect_timeout.max(1)),
        command_timeout: Duration::from_secs(cli.command_timeout.max(1)),
        script_timeout: Duration::from_secs(cli.script_timeout.max(1)),
        max_connecting: cli.connect_parallel.max(1),
        // One command per process: nothing would reuse them.
        keep_fleet_connections: false,
        retry: chom_core::ssh::breaker::RetryPolicy { retries: cli.connect_retries, ..Default::default() },
        breaker: chom_core::ssh::breaker::BreakerPolicy {
            failures: cli.breaker_failures,
            open_for: Duration::from_secs(cli.breaker_pause),
        },
        ..SshConfig::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    let status = runtime.block_on(async move {
        let result = async {
            let mut steps = chom_core::web::steps::StepLimits::default();
            for spec in &cli.step_limit {
                steps.set(spec)?;
            }
            let chom = Chom::open_with(&data_dir, Arc::new(OsKeyring::new()), ssh)?.with_step_limits(steps);
            let result = dispatch(&chom, cli.command, as_json).await;
            chom.finish().await;
            result
        }
        .await;
        match result {
            Ok(status) => status,
            Err(e) => report(&e, as_json),
        }
    });
    // Dropping the runtime here would wait on idle pooled connections.
    runtime.shutdown_background();
    std::process::exit(status);
}

async fn dispatch(chom: &Chom, command: Command, as_json: bool) -> chom_core::Result<i32> {
    match command {
        Command::Key(k) => commands::keys::run(chom, k, as_json).await,
        Command::Server(s) => commands::servers::run(chom, s, as_json).await,
        Command::Probe(sel) => commands::fleet::probe(chom, sel, as_json).await,
        Command::Run(r) => commands::fleet::run(chom, r, as_json).await,
        Command::Download { server, remote, local } => {
            commands::transfer::download(chom, &server, &remote, &local, as_json).await
        }
        Command::Upload { server, local, remote } => {
            commands::transfer::upload(chom, &server, &local, &remote, as_json).await
        }
        Command::Jobs(j) => commands::history::jobs(chom, j, as_json).await,
        Command::Audit(a) => commands::history::audit(chom, a, as_json),
        Command::Site(s) => commands::sites::run(chom, s, as_json).await,
        Command::Deploy(d) => commands::sites::deploy(chom, d, as_json).await,
        Command::Rollback { domain, to } => commands::sites::rollback(chom, &domain, to.as_deref(), as_json).await,
        Command::Ssl(s) => commands::sites::ssl(chom, s, as_json).await,
        Command::Backup(b) => commands::backups::run(chom, b, as_json).await,
        Command::Import(i) => commands::import::run(chom, i, as_json).await,
        Command::Export(e) => commands::import::export(chom, e),
        Command::Completions { .. } | Command::Man { .. } | Command::Schema => {
            unreachable!("handled before the data directory opens")
        }
    }
}

/// Prints an error (also as JSON with --json) and returns its exit status.
fn report(e: &Error, as_json: bool) -> i32 {
    tracing::warn!(code = e.code().as_str(), error = %e, "command failed");
    let remedy = e.remedy();
    let hint = remedy.as_ref().map(hint::hint);
    if as_json {
        let error = serde_json::json!({ "code": e.code(), "message": e.to_string(), "remedy": remedy, "hint": hint });
        output::json(&serde_json::json!({ "error": error }));
    }
    eprintln!("chom: {}", paint::bad(paint::Stream::Err, &output::clean(&e.to_string())));
    if let Some(hint) = hint {
        eprintln!("chom: hint: {}", output::clean(&hint));
    }
    e.code().exit_status()
}
