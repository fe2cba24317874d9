//! Servers from an OpenSSH client configuration: each concrete `Host`
//! alias, evaluated as `ssh -G` would, and compared with `ssh -G` itself
//! where OpenSSH is installed.

use std::path::{Path, PathBuf};

use crate::db::{ImportWrite, ServerFilter};
use crate::error::{Error, Result};
use crate::import::ssh_config::{self as config, Context};
use crate::keys::fingerprint_of;

use super::jumps::{self, Hop};
use super::{candidate, home_file, Candidate, ImportPlan, Imports};

const SYSTEM_CONFIG: &str = "/etc/ssh/ssh_config";

impl Imports<'_> {
    /// Plans (and unless `dry_run`, applies) the servers of `file`, or of
    /// `~/.ssh/config` and the system's `/etc/ssh/ssh_config` as ssh reads
    /// them when no file is named. Wildcard-only blocks give defaults, not
    /// servers.
    pub async fn import_ssh_config(&self, file: Option<&Path>, dry_run: bool) -> Result<ImportPlan> {
        let (user_config, system) = match file {
            Some(f) => (f.to_owned(), None),
            None => {
                let system = Path::new(SYSTEM_CONFIG);
                (home_file(".ssh/config")?, system.exists().then(|| system.to_owned()))
            }
        };
        if !user_config.is_file() {
            return Err(Error::LocalFile {
                path: user_config,
                what: "reading the SSH config".into(),
                detail: "it does not exist or is not a file".into(),
            });
        }
        let ctx = self.ssh_context()?;
        let loaded = config::load(&user_config, system.as_deref(), &ctx).map_err(import_err)?;
        let mut plan = ImportPlan::new(&user_config);
        plan.warnings = loaded.warnings().iter().map(|w| w.to_string()).collect();
        let compare = !loaded.uses_match_exec();
        if !compare {
            plan.warnings.push(
                "the config uses Match exec: CHOM evaluates no command from it (those blocks count as not \
                 matching) and does not ask `ssh -G`, which would run them"
                    .into(),
            );
        }
        let keys = self.db.list_keys()?;
        let mut candidates = Vec::new();
        for alias in loaded.hosts() {
            let resolved = match loaded.resolve(&alias) {
                Ok(r) => r,
                Err(e) => {
                    let (name, host, user) = (alias.clone(), alias.clone(), ctx.local_user.clone());
                    candidates.push((
                        Candidate::Skip { name, host, port: 22, user, notes: vec![format!("skipped: {e}")] },
                        Vec::new(),
                    ));
                    continue;
                }
            };
            let mut notes: Vec<String> =
                resolved.ignored.iter().map(|i| format!("{} ({}:{})", i.reason, i.file.display(), i.line)).collect();
            notes.extend(resolved.warnings.iter().map(|w| w.to_string()));
            if compare {
                match config::openssh_view(&user_config, &alias, &ctx) {
                    Ok(Some(view)) => notes.extend(
                        config::differences(&resolved, &view, &ctx)
                            .into_iter()
                            .map(|d| format!("OpenSSH (ssh -G) differs: {d}")),
                    ),
                    Ok(None) => {}
                    Err(e) => notes.push(format!("not compared with ssh -G: {e}")),
                }
            }
            let user = resolved.user.clone().unwrap_or_else(|| ctx.local_user.clone());
            let mut c = candidate(&alias, &resolved.hostname, resolved.port, &user, &[], notes);
            if let Some(cmd) = &resolved.proxy_command {
                c = c.skipped(format!("it is reached through ProxyCommand {cmd:?}, which CHOM does not run"));
            } else if let Candidate::Server { server, notes } = &mut c {
                server.key_id = match_key(&resolved.identity_files, &keys, notes);
            }
            let hops = resolved.proxy_jump.iter().map(|j| Hop { host: j.host.clone(), port: j.port }).collect();
            candidates.push((c, hops));
        }
        let candidates = jumps::assign(candidates, &self.db.list_servers(&ServerFilter::default())?);
        let mut write = ImportWrite::default();
        self.plan_servers(&mut plan, candidates, &mut write)?;
        self.apply(&mut plan, write, dry_run, "import.ssh_config").await?;
        Ok(plan)
    }

    /// Whom and where ssh would evaluate the config for.
    fn ssh_context(&self) -> Result<Context> {
        let home = home_file("")?;
        let local_host = sysinfo::System::host_name().unwrap_or_else(|| "localhost".into());
        Ok(Context { home, local_user: self.os_user.clone(), local_host })
    }
}

/// The CHOM key whose public half is an IdentityFile's (`FILE.pub`);
/// notes the files CHOM does not have yet.
fn match_key(files: &[PathBuf], keys: &[crate::db::KeyRecord], notes: &mut Vec<String>) -> Option<crate::ids::KeyId> {
    for file in files {
        let public = PathBuf::from(format!("{}.pub", file.display()));
        let Ok(text) = std::fs::read_to_string(&public) else {
            if !file.exists() {
                notes.push(format!("IdentityFile {} does not exist (ssh skips it too)", file.display()));
            } else {
                notes.push(format!(
                    "IdentityFile {} has no {} beside it, so CHOM cannot tell whether it has that key",
                    file.display(),
                    public.display()
                ));
            }
            continue;
        };
        let Ok(key) = russh::keys::PublicKey::from_openssh(text.trim()) else {
            notes.push(format!("{} is not an OpenSSH public key", public.display()));
            continue;
        };
        let fingerprint = fingerprint_of(&key);
        if let Some(k) = keys.iter().find(|k| k.fingerprint == fingerprint) {
            return Some(k.id);
        }
        notes.push(format!(
            "IdentityFile {} is not in CHOM's keyring: import it (chom key import NAME {}), then import again \
             to use it",
            file.display(),
            file.display()
        ));
    }
    None
}

fn import_err(e: config::SshConfigError) -> Error {
    Error::from(crate::import::ImportError::from(e))
}
