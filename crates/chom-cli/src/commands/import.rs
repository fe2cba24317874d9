//! `chom import ssh-config|known-hosts|ansible` and `chom export ansible`:
//! the plan printed (every host with what happens to it and why), then
//! applied unless `--dry-run`.

use chom_core::validate::{GroupName, Tag};
use chom_core::{AnsibleFormat, Chom, HostKeyAction, ImportAction, ImportPlan, Result, ServerFilter};

use crate::import_args::{ExportCommand, ImportCommand, InventoryFormat};
use crate::output::{clean, json, table};

pub async fn run(chom: &Chom, command: ImportCommand, as_json: bool) -> Result<i32> {
    let imports = chom.imports();
    let (plan, dry_run) = match command {
        ImportCommand::SshConfig { file, dry_run } => {
            (imports.import_ssh_config(file.as_deref(), dry_run).await?, dry_run)
        }
        ImportCommand::KnownHosts { file, dry_run } => {
            (imports.import_known_hosts(file.as_deref(), dry_run).await?, dry_run)
        }
        ImportCommand::Ansible { file, dry_run } => (imports.import_ansible(&file, dry_run).await?, dry_run),
    };
    if as_json {
        json(&plan);
    } else {
        print_plan(&plan, dry_run);
    }
    Ok(0)
}

pub fn export(chom: &Chom, command: ExportCommand) -> Result<i32> {
    let ExportCommand::Ansible { tag, group, format } = command;
    let filter = ServerFilter {
        tag: tag.as_deref().map(Tag::parse).transpose()?,
        group: group.as_deref().map(GroupName::parse).transpose()?,
        search: None,
    };
    let format = match format {
        InventoryFormat::Yaml => AnsibleFormat::Yaml,
        InventoryFormat::Ini => AnsibleFormat::Ini,
    };
    print!("{}", chom.imports().export_ansible(&filter, format)?);
    Ok(0)
}

fn print_plan(plan: &ImportPlan, dry_run: bool) {
    for w in &plan.warnings {
        println!("warning: {}", clean(w));
    }
    if !plan.servers.is_empty() {
        let rows: Vec<Vec<String>> = plan
            .servers
            .iter()
            .map(|s| {
                let key = s.key.as_deref().unwrap_or("-");
                let what = if s.changes.is_empty() { String::new() } else { s.changes.join("; ") };
                vec![
                    action(s.action).into(),
                    clean(&s.name).into(),
                    clean(&format!("{}@{}:{}", s.user, s.host, s.port)).into(),
                    key.into(),
                    what,
                ]
            })
            .collect();
        table(&["ACTION", "SERVER", "ENDPOINT", "KEY", "CHANGES"], &rows);
        for s in plan.servers.iter().filter(|s| !s.notes.is_empty()) {
            println!("{}:", clean(&s.name));
            for n in &s.notes {
                println!("  {}", clean(n));
            }
        }
    }
    for k in &plan.host_keys {
        let what = match k.action {
            HostKeyAction::Pin => "pin",
            HostKeyAction::Unchanged => "unchanged",
            HostKeyAction::Conflict => "CONFLICT",
            HostKeyAction::Revoke => "REVOKE",
            HostKeyAction::NotSupported => "not supported",
        };
        println!("{what:<13} {} {} {}: {}", clean(&k.server), k.algorithm, k.fingerprint, clean(&k.detail));
    }
    let count = |a| plan.servers.iter().filter(|s| s.action == a).count();
    let pins = plan.host_keys.iter().filter(|k| k.action == HostKeyAction::Pin).count();
    let summary = format!(
        "{} to add, {} to update, {} unchanged, {} skipped; {pins} host key(s) to pin",
        count(ImportAction::Add),
        count(ImportAction::Update),
        count(ImportAction::Unchanged),
        count(ImportAction::Skip)
    );
    match (dry_run, plan.applied) {
        (true, _) => println!("dry run: {summary}; nothing was changed"),
        (false, true) => println!("applied: {summary}"),
        (false, false) => println!("nothing to change: {summary}"),
    }
}

fn action(a: ImportAction) -> &'static str {
    match a {
        ImportAction::Add => "add",
        ImportAction::Update => "update",
        ImportAction::Unchanged => "unchanged",
        ImportAction::Skip => "skip",
    }
}
