//! Jump hosts (OpenSSH's ProxyJump): a server reached through another
//! server of the cache, whose pooled connection carries its SSH stream.
//! Every hop is a server of its own, with its own pinned host key and key.
//! A chain is followed to its first hop; a loop is refused when it would
//! be made, and again when a connection target is built.

use crate::db::ServerRecord;
use crate::error::{Error, Result};
use crate::ssh::Target;
use crate::validate::ServerName;

use super::Ctx;

/// Jump hosts in a row at most, as a bound on what a cache could hold.
const MAX_HOPS: usize = 8;

impl Ctx {
    /// `jump` as the jump host of server `name`: it exists, and its own
    /// chain does not lead back to `name`.
    pub(super) fn checked_jump(&self, name: &ServerName, jump: &str) -> Result<ServerName> {
        let jump = ServerName::parse(jump)?;
        self.chain_from(name, Some(jump.clone()))?;
        Ok(jump)
    }

    /// The records of `first` and the hosts it is reached through, in
    /// order, refusing a loop back to `name` or through any hop twice.
    fn chain_from(&self, name: &ServerName, first: Option<ServerName>) -> Result<Vec<ServerRecord>> {
        let mut names = vec![name.to_string()];
        let mut chain = Vec::new();
        let mut next = first;
        while let Some(hop) = next {
            let looped = names.iter().any(|n| n == hop.as_str());
            names.push(hop.to_string());
            if looped {
                return Err(Error::Usage(format!("jump hosts would loop: {}", names.join(" -> "))));
            }
            if chain.len() == MAX_HOPS {
                return Err(Error::Usage(format!("more than {MAX_HOPS} jump hosts in a row: {}", names.join(" -> "))));
            }
            let record = self.server_record(hop.as_str())?;
            next = record.jump.clone();
            chain.push(record);
        }
        Ok(chain)
    }

    /// The target of `record`'s jump host (itself reached through its own),
    /// or `None` for a server reached directly. Hops always log in with
    /// their key: they carry the connection.
    pub(super) async fn jump_target(&self, record: &ServerRecord) -> Result<Option<Box<Target>>> {
        let chain = self.chain_from(&record.name, record.jump.clone())?;
        let mut via: Option<Box<Target>> = None;
        for hop in chain.iter().rev() {
            let mut target = self.target_alone(hop, true).await?;
            target.jump = via;
            via = Some(Box::new(target));
        }
        Ok(via)
    }
}
