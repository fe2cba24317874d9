//! Host-key trust: show the fingerprint a server offers, pin it only when the
//! operator accepts it.

use serde::Serialize;

use crate::db::{PinnedHostKey, ServerRecord};
use crate::error::{Error, Result};
use crate::ssh::{self, HostKeyOffer, Target};

use super::{Ctx, Servers};

/// How the operator accepted a host key.
#[derive(Debug, Clone, Copy)]
pub enum Acceptance<'a> {
    /// The fingerprint they verified ("SHA256:...").
    Fingerprint(&'a str),
    /// Whatever the server offers, for a server with no pinned key yet.
    FirstUse,
}

/// What a server offers now, next to what is pinned.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct HostKeyCheck {
    pub server: String,
    pub offered: HostKeyOffer,
    pub pinned: Option<PinnedHostKey>,
    /// The offered key is the pinned one (or one pinned beside it).
    pub trusted: bool,
}

impl HostKeyCheck {
    fn new(server: String, offered: HostKeyOffer, target: Target) -> HostKeyCheck {
        let trusted =
            target.pinned.iter().chain(&target.pinned_more).any(|p| p.public_key.trim() == offered.public_key);
        HostKeyCheck { server, offered, pinned: target.pinned, trusted }
    }
}

impl Servers<'_> {
    /// Connects without authenticating and reports the host key offered.
    pub async fn check_host_key(&self, name: &str) -> Result<HostKeyCheck> {
        let record = self.server_record(name)?;
        let target = self.target(&record, false).await?;
        let offered = self.pool.fetch_host_key(&target).await?;
        Ok(HostKeyCheck::new(record.name.to_string(), offered, target))
    }

    /// Pins the server's host key once the operator accepted it: only if
    /// the server offers exactly the accepted fingerprint, or, for
    /// `FirstUse`, whatever it offers when nothing is pinned yet. Returns the
    /// pinned key. A mismatch pins nothing.
    pub async fn accept_host_key(&self, name: &str, acceptance: Acceptance<'_>) -> Result<HostKeyOffer> {
        let check = self.check_host_key(name).await?;
        let offered = check.offered;
        let record = self.server_record(name)?;
        if self.db.revoked_host_keys(record.id)?.iter().any(|r| r.fingerprint == offered.fingerprint) {
            self.reject_host_key(name, &offered)?;
            return Err(ssh::SshError::HostKeyRevoked { server: check.server, offered: offered.fingerprint }.into());
        }
        match acceptance {
            Acceptance::Fingerprint(fp) if fp.trim() != offered.fingerprint => {
                self.reject_host_key(name, &offered)?;
                return Err(Error::FingerprintMismatch {
                    server: check.server,
                    offered: offered.fingerprint,
                    accepted: fp.trim().to_owned(),
                });
            }
            Acceptance::FirstUse if check.pinned.is_some() => {
                let pinned = check.pinned.map(|p| p.fingerprint).unwrap_or_default();
                return Err(Error::Usage(format!(
                    "trust on first use does not replace a pinned key: {} had {pinned} and now offers {}; \
                     verify the new key, then accept it by its fingerprint",
                    check.server, offered.fingerprint
                )));
            }
            _ => {}
        }
        let key = match (&check.pinned, check.trusted) {
            // Pinned already, as the main key or beside it: the pins stay
            // as they are (a stale "changed" status is cleared).
            (Some(main), true) => main.clone(),
            _ => PinnedHostKey {
                algorithm: offered.algorithm.clone(),
                fingerprint: offered.fingerprint.clone(),
                public_key: offered.public_key.clone(),
                first_seen: chrono::Utc::now(),
            },
        };
        self.db.pin_host_key(record.id, &key)?;
        self.pool.evict(record.id).await;
        let detail = match check.pinned {
            Some(p) if p.fingerprint != key.fingerprint => {
                format!("replaced {} with {}", p.fingerprint, key.fingerprint)
            }
            Some(_) => format!("re-accepted {}", offered.fingerprint),
            None => format!("pinned {}", key.fingerprint),
        };
        self.audit("trust.accept", Some(record.name.as_str()), None, true, &detail);
        Ok(offered)
    }

    /// Records that the operator refused a key (for the audit trail).
    pub fn reject_host_key(&self, name: &str, offered: &HostKeyOffer) -> Result<()> {
        let record = self.server_record(name)?;
        self.audit(
            "trust.reject",
            Some(record.name.as_str()),
            None,
            false,
            &format!("refused {}", offered.fingerprint),
        );
        Ok(())
    }
}

impl Ctx {
    /// A connection target for a server, with its pinned key and (if
    /// `with_key`) its decoded private key from the keyring.
    pub(super) async fn target(&self, record: &ServerRecord, with_key: bool) -> Result<Target> {
        let mut target = self.target_alone(record, with_key).await?;
        target.jump = self.jump_target(record).await?;
        Ok(target)
    }

    /// One server's target, without its jump host (the caller's to fill in).
    pub(super) async fn target_alone(&self, record: &ServerRecord, with_key: bool) -> Result<Target> {
        let pinned = self.db.pinned_host_key(record.id)?;
        let revoked = self.db.revoked_host_keys(record.id)?.into_iter().map(|r| r.fingerprint).collect();
        let key = match (&record.key, with_key) {
            (Some(name), true) => Some((name.to_string(), self.credential(name).await?)),
            _ => None,
        };
        Ok(Target {
            server_id: record.id,
            server: record.name.to_string(),
            host: record.host.clone(),
            port: record.port,
            user: record.user.clone(),
            pinned_more: if pinned.is_some() { self.db.more_host_keys(record.id)? } else { Vec::new() },
            pinned,
            revoked,
            key,
            jump: None,
        })
    }
}

impl From<tokio::task::JoinError> for Error {
    fn from(e: tokio::task::JoinError) -> Self {
        Error::Internal(e.to_string())
    }
}

impl Servers<'_> {
    /// Installs the server's key in the login user's authorized_keys over a
    /// one-time password login (like ssh-copy-id). The host key must be
    /// trusted first; the password is used once and never stored or logged.
    #[tracing::instrument(skip_all, fields(server = name))]
    pub async fn install_key_with_password(&self, name: &str, password: &crate::Secret) -> Result<()> {
        let record = self.server_record(name)?;
        let key = record.key.clone().ok_or_else(|| ssh::SshError::NoKey { server: record.name.to_string() })?;
        let public = self.keys().key(key.as_str())?.public_key;
        let target = self.target(&record, false).await?;
        let route = self.pool.route(&target).await?;
        let result = ssh::install_with_password(&target, self.pool.config(), &route, password, &public).await;
        let detail = match &result {
            Ok(()) => format!("installed key {key} for {}", record.user),
            Err(e) => e.to_string(),
        };
        self.audit("key.install", Some(record.name.as_str()), Some(key.as_str()), result.is_ok(), &detail);
        Ok(result?)
    }
}
