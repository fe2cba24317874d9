//! Host-key trust: show the fingerprint a server offers, pin it only when the
//! operator accepts it.

use serde::Serialize;

use crate::db::{PinnedHostKey, ServerRecord};
use crate::error::{Error, Result};
use crate::ssh::{self, HostKeyOffer, Target};

use super::Chom;

/// What a server offers now, next to what is pinned.
#[derive(Debug, Clone, Serialize)]
pub struct HostKeyCheck {
    pub server: String,
    pub offered: HostKeyOffer,
    pub pinned: Option<PinnedHostKey>,
}

impl HostKeyCheck {
    /// The offered key is the pinned one.
    pub fn is_pinned(&self) -> bool {
        self.pinned.as_ref().is_some_and(|p| p.public_key.trim() == self.offered.public_key)
    }
}

impl Chom {
    /// A connection target for a server, with its pinned key and (if
    /// `with_key`) its decoded private key from the keyring.
    pub(super) async fn target(&self, record: &ServerRecord, with_key: bool) -> Result<Target> {
        let pinned = self.db.pinned_host_key(record.id)?;
        let key = match (&record.key, with_key) {
            (Some(name), true) => Some((name.to_string(), self.private_key(name).await?)),
            _ => None,
        };
        Ok(Target {
            server_id: record.id,
            server: record.name.to_string(),
            host: record.host.clone(),
            port: record.port,
            user: record.user.clone(),
            pinned,
            key,
        })
    }

    /// Connects without authenticating and reports the host key offered.
    pub async fn check_host_key(&self, name: &str) -> Result<HostKeyCheck> {
        let record = self.server_record(name)?;
        let target = self.target(&record, false).await?;
        let offered = ssh::fetch_host_key(&target, self.pool.config()).await?;
        Ok(HostKeyCheck { server: record.name.to_string(), offered, pinned: target.pinned })
    }

    /// Pins exactly the key the operator was shown and accepted.
    pub async fn trust_host_key(&self, name: &str, accepted: &HostKeyOffer) -> Result<()> {
        let record = self.server_record(name)?;
        let previous = self.db.pinned_host_key(record.id)?;
        let key = PinnedHostKey {
            algorithm: accepted.algorithm.clone(),
            fingerprint: accepted.fingerprint.clone(),
            public_key: accepted.public_key.clone(),
            first_seen: chrono::Utc::now(),
        };
        self.db.pin_host_key(record.id, &key)?;
        self.pool.evict(record.id).await;
        let detail = match previous {
            Some(p) if p.fingerprint != key.fingerprint => format!("replaced {} with {}", p.fingerprint, key.fingerprint),
            Some(_) => format!("re-accepted {}", key.fingerprint),
            None => format!("pinned {}", key.fingerprint),
        };
        self.audit("trust.accept", Some(record.name.as_str()), None, true, &detail);
        Ok(())
    }

    /// Records that the operator refused a key (for the audit trail).
    pub fn reject_host_key(&self, name: &str, offered: &HostKeyOffer) -> Result<()> {
        let record = self.server_record(name)?;
        self.audit("trust.reject", Some(record.name.as_str()), None, false, &format!("refused {}", offered.fingerprint));
        Ok(())
    }
}

impl From<tokio::task::JoinError> for Error {
    fn from(e: tokio::task::JoinError) -> Self {
        Error::Internal(e.to_string())
    }
}
