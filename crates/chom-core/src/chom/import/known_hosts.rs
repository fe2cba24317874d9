//! Host keys from a `known_hosts` file, for the servers CHOM has: a key
//! pins a server with none pinned (its other keys pinned beside it); a
//! file that has the pinned key pins its other keys too; a file that does
//! not is shown as a conflict and never replaces it; an `@revoked` key is refused
//! for good on the servers it names (russh's own known_hosts check skips
//! marker lines, so CHOM keeps the revocations and enforces them itself).

use std::path::Path;

use crate::db::{ImportWrite, PinnedHostKey, RevokedHostKey, ServerFilter};
use crate::error::Result;
use crate::import::known_hosts::{self, KnownKey};

use super::{home_file, read, HostKeyAction, ImportPlan, Imports, PlannedHostKey};

/// Which of a host's keys to pin when the file has several: the types a
/// server negotiates first, strongest first.
const PREFERENCE: [&str; 5] =
    ["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa"];

impl Imports<'_> {
    /// Plans (and unless `dry_run`, applies) the keys `file` (default
    /// `~/.ssh/known_hosts`) holds for the servers in the cache.
    pub async fn import_known_hosts(&self, file: Option<&Path>, dry_run: bool) -> Result<ImportPlan> {
        let path = match file {
            Some(f) => f.to_owned(),
            None => home_file(".ssh/known_hosts")?,
        };
        let parsed = known_hosts::parse(&read(&path)?);
        let mut plan = ImportPlan::new(&path);
        plan.warnings = parsed.problems().iter().map(|p| format!("line {}: {}", p.line, p.error)).collect();
        let mut write = ImportWrite::default();
        let servers = self.db.list_servers(&ServerFilter::default())?;
        for server in &servers {
            let found = parsed.lookup(server.host.as_str(), server.port.get());
            let name = server.name.to_string();
            let planned = |action, key: &KnownKey, detail: String| PlannedHostKey {
                server: name.clone(),
                action,
                algorithm: key.algorithm.clone(),
                fingerprint: key.fingerprint.clone(),
                detail,
            };
            let revoked_now = self.db.revoked_host_keys(server.id)?;
            for key in &found.revoked {
                if revoked_now.iter().any(|r| r.fingerprint == key.fingerprint) {
                    plan.host_keys.push(planned(HostKeyAction::Unchanged, key, "revoked already".into()));
                    continue;
                }
                let source = format!("{} line {}", path.display(), key.line);
                plan.host_keys.push(planned(HostKeyAction::Revoke, key, format!("@revoked at {source}")));
                write.revoke.push((
                    server.name.clone(),
                    RevokedHostKey { fingerprint: key.fingerprint.clone(), public_key: key.public_key.clone(), source },
                ));
            }
            for key in &found.cert_authorities {
                plan.host_keys.push(planned(
                    HostKeyAction::NotSupported,
                    key,
                    format!(
                        "line {}: @cert-authority (host certificates) is not supported yet; nothing pinned",
                        key.line
                    ),
                ));
            }
            // A key revoked once stays refused, whatever a later file says.
            let (refused, usable): (Vec<&KnownKey>, Vec<&KnownKey>) =
                found.keys.iter().partition(|k| revoked_now.iter().any(|r| r.fingerprint == k.fingerprint));
            for key in refused {
                let detail = format!("line {}: revoked earlier, so never pinned", key.line);
                plan.host_keys.push(planned(HostKeyAction::Revoke, key, detail));
            }
            let Some(best) = preferred(&usable) else { continue };
            let pinned = self.db.pinned_host_key(server.id)?;
            let revoking_pinned = pinned
                .as_ref()
                .is_some_and(|p| write.revoke.iter().any(|(n, r)| n == &server.name && r.fingerprint == p.fingerprint));
            let more = self.db.more_host_keys(server.id)?;
            let pin_more = |main: &str, write: &mut ImportWrite, plan: &mut ImportPlan| {
                let mut seen = std::collections::HashSet::from([main.to_owned()]);
                for key in usable.iter().filter(|k| seen.insert(k.fingerprint.clone())) {
                    if more.iter().any(|m| m.fingerprint == key.fingerprint) {
                        plan.host_keys.push(planned(
                            HostKeyAction::Unchanged,
                            key,
                            "pinned beside the main key".into(),
                        ));
                        continue;
                    }
                    let detail = format!("line {}: pinned beside {main}", key.line);
                    plan.host_keys.push(planned(HostKeyAction::Pin, key, detail));
                    write.pin_more.push((server.name.clone(), pin_of(key)));
                }
            };
            match pinned {
                Some(p) if !revoking_pinned && usable.iter().any(|k| k.fingerprint == p.fingerprint) => {
                    let main = usable.iter().find(|k| k.fingerprint == p.fingerprint).copied().unwrap_or(best);
                    plan.host_keys.push(planned(HostKeyAction::Unchanged, main, format!("pinned {}", p.fingerprint)));
                    pin_more(&p.fingerprint, &mut write, &mut plan);
                }
                Some(p) if !revoking_pinned => plan.host_keys.push(planned(
                    HostKeyAction::Conflict,
                    best,
                    format!(
                        "pinned {} but line {} has {}; nothing replaced. If the server's key really changed, \
                         verify it, then accept it by its fingerprint (chom server trust {} --fingerprint {})",
                        p.fingerprint, best.line, best.fingerprint, server.name, best.fingerprint
                    ),
                )),
                _ => {
                    let detail = format!("line {}: the main key (its type asked for first)", best.line);
                    plan.host_keys.push(planned(HostKeyAction::Pin, best, detail));
                    write.pin.push((server.name.clone(), pin_of(best)));
                    pin_more(&best.fingerprint, &mut write, &mut plan);
                }
            }
        }
        let known: std::collections::HashSet<(String, u16)> =
            servers.iter().map(|s| (s.host.to_string().to_lowercase(), s.port.get())).collect();
        let strangers =
            parsed.named_hosts().into_iter().filter(|h| !known.contains(&(h.0.to_lowercase(), h.1))).count();
        if strangers > 0 {
            plan.warnings.push(format!(
                "{strangers} host(s) named in the file are not CHOM servers: add them first (chom import ssh-config, \
                 chom import ansible or chom server add), then import the file again"
            ));
        }
        self.apply(&mut plan, write, dry_run, "import.known_hosts").await?;
        Ok(plan)
    }
}

fn pin_of(key: &KnownKey) -> PinnedHostKey {
    PinnedHostKey {
        algorithm: key.algorithm.clone(),
        fingerprint: key.fingerprint.clone(),
        public_key: key.public_key.clone(),
        first_seen: chrono::Utc::now(),
    }
}

fn preferred<'k>(keys: &[&'k KnownKey]) -> Option<&'k KnownKey> {
    let rank = |k: &KnownKey| PREFERENCE.iter().position(|a| *a == k.algorithm).unwrap_or(PREFERENCE.len());
    keys.iter().copied().min_by_key(|k| (rank(k), k.line))
}
