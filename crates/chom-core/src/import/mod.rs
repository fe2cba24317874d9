//! Bringing an existing fleet in: what an operator already keeps in
//! `~/.ssh/config`, `known_hosts` and an Ansible inventory, read as
//! OpenSSH and Ansible read them. These modules only parse and evaluate;
//! `chom::import` turns their results into a plan and applies it.

pub mod ansible;
pub mod known_hosts;
pub mod ssh_config;

use crate::code::ErrorCode;

/// A source that cannot be read as a whole (a problem on one line or one
/// host is reported in the plan instead).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    SshConfig(#[from] ssh_config::SshConfigError),
    #[error(transparent)]
    Ansible(#[from] ansible::AnsibleError),
}

impl ImportError {
    pub fn code(&self) -> ErrorCode {
        match self {
            ImportError::SshConfig(ssh_config::SshConfigError::Read { .. }) => ErrorCode::LocalFile,
            ImportError::SshConfig(_) => ErrorCode::InvalidInput,
            ImportError::Ansible(e) => e.code(),
        }
    }
}
