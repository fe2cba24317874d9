//! The circuit breaker's state in the cache: the SSH pool asks before each
//! dial and tells how it ended (`ssh::breaker`), the operator resumes a
//! paused server, the views show it.

use std::sync::Arc;

use chrono::Utc;

use crate::db::Db;
use crate::error::Result;
use crate::ids::ServerId;
use crate::ssh::breaker::{BreakerPolicy, DialGate};
use crate::ssh::SshError;

use super::Servers;

pub(super) struct CacheGate {
    pub db: Arc<Db>,
    pub policy: BreakerPolicy,
}

impl DialGate for CacheGate {
    fn allow(&self, server_id: ServerId, server: &str) -> std::result::Result<(), SshError> {
        // The cache unreadable is no reason to stop dialling.
        let state = self.db.breaker(server_id).unwrap_or_default();
        state.allows(Utc::now()).map_err(|until| SshError::Paused {
            server: server.to_owned(),
            failures: state.failures,
            until,
        })
    }

    fn record(&self, server_id: ServerId, result: std::result::Result<(), &SshError>) {
        // Only connections that did not come about count; a refused key or
        // a changed host key is the operator's to fix, not a sick server.
        let ok = match result {
            Ok(()) => true,
            Err(e) if e.is_retryable() => false,
            Err(_) => return,
        };
        let state = self.db.breaker(server_id).unwrap_or_default();
        let next = state.after(ok, Utc::now(), &self.policy);
        if next == state {
            return;
        }
        let error = result.err().map(ToString::to_string).unwrap_or_default();
        if let Err(e) = self.db.set_breaker(server_id, next, &error) {
            tracing::warn!(error = %e, "could not store a server's circuit breaker");
        } else if next.open_until.is_some() && state.open_until != next.open_until {
            tracing::warn!(%server_id, failures = next.failures, "server paused by its circuit breaker");
        }
    }
}

impl Servers<'_> {
    /// Closes a paused server's breaker: the next operation dials it at once.
    pub fn resume_server(&self, name: &str) -> Result<()> {
        let server = self.server_record(name)?;
        let was = self.db.breaker(server.id)?;
        self.db.set_breaker(server.id, Default::default(), "")?;
        let detail = format!("breaker reset (had {} failures in a row)", was.failures);
        self.audit("server.resume", Some(server.name.as_str()), None, true, &detail);
        Ok(())
    }
}
