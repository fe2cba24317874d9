//! `server setup`: the web stack, firewall, SSH hardening and a deploy
//! user, idempotently. A changed sshd configuration is kept only after a
//! fresh login with the server's key worked; otherwise it is put back over
//! the still-open connection, so the operator is never locked out.

use std::time::Duration;

use serde::Serialize;

use crate::error::Result;
use crate::ids::JobId;
use crate::jobs::{Control, Scope};
use crate::validate::PhpVersion;
use crate::web::{Script, WebError};

use super::remote::{change_detail, Transcript};
use super::{Ctx, Servers};

use crate::web::assets::{SETUP, SETUP_FINISH};
/// The user `setup` creates for deploys by hand (CHOM itself logs in as the server's user).
pub const DEPLOY_USER: &str = "deploy";

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SetupReport {
    pub job_id: JobId,
    pub changed: Vec<String>,
    pub unchanged: Vec<String>,
    /// A fresh SSH login was made after sshd's configuration changed.
    pub login_verified: bool,
}

impl Servers<'_> {
    pub async fn setup_server(&self, name: &str, php: &str, ctl: &Control) -> Result<SetupReport> {
        let php = PhpVersion::parse(php)?;
        let server = self.server_record(name)?;
        let key = match &server.key {
            Some(k) => self.key_record(k.as_str())?,
            None => return Err(crate::ssh::SshError::NoKey { server: server.name.to_string() }.into()),
        };
        let job =
            self.start_web_job("setup", &format!("php {php}"), &server, Scope::Server(server.name.to_string()), ctl)?;
        let input = super::resume::Input::Setup { server: server.name.to_string(), php: php.to_string() };
        self.db.set_job_input(job.id, &input.to_json())?;
        let script = Script::new("setup", SETUP)
            .var("PHP", php.as_str())?
            .var("SSH_PORT", &server.port.get().to_string())?
            .var("DEPLOY_USER", DEPLOY_USER)?
            .var("DEPLOY_KEY", key.public_key.trim())?;
        let mut transcript = Transcript::default();
        let (report, mut result) = self.run_script(&server, &script, None, &job, &mut transcript, &mut |_| {}).await;
        let mut login_verified = false;
        if result.is_ok() && report.value("sshd_changed") == Some("1") {
            let proof = self.prove_login(&server).await;
            login_verified = proof.is_ok();
            let finish =
                Script::new("setup-finish", SETUP_FINISH).var("KEEP", if login_verified { "1" } else { "0" })?;
            let (_, finished) = self.run_script(&server, &finish, None, &job, &mut transcript, &mut |_| {}).await;
            result = match (proof, finished) {
                (Ok(()), finished) => finished,
                (Err(e), Ok(())) => Err(WebError::Remote {
                    server: server.name.to_string(),
                    what: "setup".into(),
                    detail: format!(
                        "a fresh login failed with the hardened sshd configuration ({e}); the previous one was put back"
                    ),
                }
                .into()),
                (Err(e), Err(restore)) => Err(WebError::Remote {
                    server: server.name.to_string(),
                    what: "setup".into(),
                    detail: format!(
                        "a fresh login failed with the hardened sshd configuration ({e}) and putting back the \
                         previous one failed too ({restore}); keep this session open and check \
                         /etc/ssh/sshd_config.d/01-chom-hardening.conf from the provider's console"
                    ),
                }
                .into()),
            };
        }
        self.end_web_job(&job, &transcript, result.as_ref().err()).await?;
        let changed: Vec<String> = report.changed().into_iter().map(str::to_owned).collect();
        let detail = change_detail(&result, &changed);
        self.audit("server.setup", Some(server.name.as_str()), None, result.is_ok(), &detail);
        result?;
        Ok(SetupReport {
            job_id: job.id,
            changed,
            unchanged: report.unchanged().into_iter().map(str::to_owned).collect(),
            login_verified,
        })
    }
}

impl Ctx {
    /// A new connection with the server's key, retried briefly: sshd
    /// re-executes itself on reload and refuses connections for a moment.
    async fn prove_login(&self, server: &crate::db::ServerRecord) -> Result<()> {
        let target = self.target(server, true).await?;
        let mut last = None;
        for _ in 0..6 {
            match self.pool.prove_fresh_login(&target).await {
                Ok(()) => return Ok(()),
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        Err(last.expect("tried at least once").into())
    }
}
