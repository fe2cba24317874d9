//! An import's writes: servers added and updated, host keys pinned and
//! revoked, all in one transaction, so an import applies whole or not at
//! all.

use super::host_keys::{pin_in, pin_more_in, revoke_in, PinnedHostKey, RevokedHostKey};
use super::servers::{insert_in, update_in, NewServer, ServerPatch};
use super::{Db, DbResult};
use crate::ids::ServerId;
use crate::validate::ServerName;

/// What an import writes. Pins and revocations name their server, which
/// may be one this same import adds.
#[derive(Debug, Default)]
pub struct ImportWrite {
    pub add: Vec<NewServer>,
    pub update: Vec<(ServerId, ServerPatch)>,
    pub pin: Vec<(ServerName, PinnedHostKey)>,
    /// Keys pinned beside the main one (after `pin`).
    pub pin_more: Vec<(ServerName, PinnedHostKey)>,
    pub revoke: Vec<(ServerName, RevokedHostKey)>,
}

impl Db {
    /// Applies `w` in one transaction. `Ok(Err(name))` when a server's name
    /// is taken (another process added it meanwhile): nothing was written.
    pub fn apply_import(&self, w: &ImportWrite) -> DbResult<Result<(), String>> {
        self.blocking(|| {
            let mut conn = self.conn();
            let tx = super::write_tx(&mut conn)?;
            for s in &w.add {
                if insert_in(&tx, s)?.is_none() {
                    return Ok(Err(s.name.to_string()));
                }
            }
            for (id, patch) in &w.update {
                if !update_in(&tx, *id, patch)? {
                    return Ok(Err(patch.rename.as_ref().map(|n| n.to_string()).unwrap_or_default()));
                }
            }
            let id_of = |name: &ServerName| -> rusqlite::Result<ServerId> {
                tx.query_row("SELECT id FROM servers WHERE name = ?1", [name.as_str()], |r| r.get(0))
            };
            for (name, key) in &w.revoke {
                revoke_in(&tx, id_of(name)?, key)?;
            }
            for (name, key) in &w.pin {
                pin_in(&tx, id_of(name)?, key)?;
            }
            for (name, key) in &w.pin_more {
                pin_more_in(&tx, id_of(name)?, key)?;
            }
            tx.commit()?;
            Ok(Ok(()))
        })
    }
}
