//! The operator's ssh-agent (`SSH_AUTH_SOCK`): its keys listed, and it
//! signs CHOM's logins with the ones the operator chose. Private halves
//! never leave the agent; CHOM keeps only the public half.

use russh::keys::agent::client::AgentClient;
use russh::keys::agent::AgentIdentity;
use russh::keys::PublicKey;

use super::SshError;

pub type Agent = AgentClient<tokio::net::UnixStream>;

/// A connection to the agent, or why there is none, in words.
pub async fn connect() -> Result<Agent, SshError> {
    AgentClient::connect_env().await.map_err(|e| SshError::Agent {
        detail: match std::env::var_os("SSH_AUTH_SOCK") {
            None => "SSH_AUTH_SOCK is not set: start ssh-agent (eval $(ssh-agent)) and add keys (ssh-add)".into(),
            Some(sock) => format!("cannot reach the agent at {}: {e}", std::path::Path::new(&sock).display()),
        },
    })
}

/// The plain keys the agent holds (certificates are left out: CHOM pins
/// and authorizes plain keys).
pub async fn identities() -> Result<Vec<(PublicKey, String)>, SshError> {
    let mut agent = connect().await?;
    let ids = agent
        .request_identities()
        .await
        .map_err(|e| SshError::Agent { detail: format!("the agent did not list its keys: {e}") })?;
    Ok(ids
        .into_iter()
        .filter_map(|id| match id {
            AgentIdentity::PublicKey { key, comment } => Some((key, comment)),
            AgentIdentity::Certificate { .. } => None,
        })
        .collect())
}
