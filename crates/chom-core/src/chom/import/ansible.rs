//! Servers from an Ansible inventory (INI or YAML), its groups as tags;
//! and the fleet written back as an inventory Ansible reads.

use std::path::Path;

use serde::Deserialize;

use crate::db::{ImportWrite, ServerFilter};
use crate::error::{Error, Result};
use crate::import::ansible::{self as inventory, ExportHost, Format};

use super::jumps::{self, Hop};
use super::{candidate, read, ImportPlan, Imports};

/// An inventory's format, for an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum AnsibleFormat {
    Yaml,
    Ini,
}

impl Imports<'_> {
    /// Plans (and unless `dry_run`, applies) the hosts of inventory `file`:
    /// `ansible_host`, `ansible_port` and `ansible_user` as Ansible resolves
    /// them (the local user where none is set, as Ansible's ssh does), every
    /// group a host is in as a tag.
    pub async fn import_ansible(&self, file: &Path, dry_run: bool) -> Result<ImportPlan> {
        let text = read(file)?;
        let format = match file.extension().and_then(|e| e.to_str()) {
            Some("yml" | "yaml") => Format::Yaml,
            Some("ini" | "cfg") => Format::Ini,
            _ => Format::Auto,
        };
        let parsed = inventory::parse(&text, format).map_err(|e| Error::from(crate::import::ImportError::from(e)))?;
        let mut plan = ImportPlan::new(file);
        let mut candidates = Vec::new();
        for host in parsed.hosts() {
            let user = host.user.clone().unwrap_or_else(|| self.os_user.clone());
            let port = host.port.unwrap_or(22);
            let c = candidate(&host.name, &host.host, port, &user, &host.groups, Vec::new());
            let hops = host.proxy_jump.as_deref().map(Hop::parse_list).unwrap_or_default();
            candidates.push(match (&host.proxy_jump, &host.proxy_command) {
                (None, Some(cmd)) => {
                    (c.skipped(format!("it is reached through ProxyCommand {cmd:?}, which CHOM does not run")), hops)
                }
                _ => (c, hops),
            });
        }
        let candidates = jumps::assign(candidates, &self.db.list_servers(&ServerFilter::default())?);
        let mut write = ImportWrite::default();
        self.plan_servers(&mut plan, candidates, &mut write)?;
        self.apply(&mut plan, write, dry_run, "import.ansible").await?;
        Ok(plan)
    }

    /// The servers `filter` selects as an inventory: each in a group per
    /// tag and one for its group, with `ansible_host`, `ansible_port` and
    /// `ansible_user`.
    pub fn export_ansible(&self, filter: &ServerFilter, format: AnsibleFormat) -> Result<String> {
        let hosts: Vec<ExportHost> = self
            .db
            .list_servers(filter)?
            .into_iter()
            .map(|s| {
                let mut groups: Vec<String> = s.tags.iter().map(|t| t.to_string()).collect();
                groups.extend(s.group.map(|g| g.to_string()));
                ExportHost {
                    name: s.name.to_string(),
                    host: s.host.to_string(),
                    port: s.port.get(),
                    user: s.user.to_string(),
                    groups,
                }
            })
            .collect();
        let text = match format {
            AnsibleFormat::Yaml => inventory::export_yaml(&hosts),
            AnsibleFormat::Ini => inventory::export_ini(&hosts),
        };
        text.map_err(|e| Error::from(crate::import::ImportError::from(e)))
    }
}
