//! The one keyring module: service `chom-desktop`, one entry per account
//! (`key:<random id>`). The calls block on the OS store (D-Bus on Linux):
//! async callers use `spawn_blocking`. There is no fallback to a file.

use crate::secret::Secret;

pub const SERVICE: &str = "chom-desktop";

#[derive(Debug, Clone, thiserror::Error)]
pub enum SecretError {
    #[error(
        "no OS keyring available ({detail}). CHOM keeps private keys only in the OS keyring: on Linux start a \
         Secret Service (gnome-keyring or KeePassXC) in your desktop session and unlock it, then retry"
    )]
    Unavailable { detail: String },
    #[error("the OS keyring is locked ({detail}): unlock it (log in to your desktop keyring) and retry")]
    Locked { detail: String },
    #[error("the OS keyring holds several entries for {account}; remove the duplicates with your keyring manager")]
    Ambiguous { account: String },
    #[error("the OS keyring refused the entry {account}: {detail}")]
    Rejected { account: String, detail: String },
}

/// Where secrets live. The product uses `OsKeyring`; unit tests a memory store.
pub trait SecretStore: Send + Sync {
    /// A missing entry is `Ok(None)`.
    fn get(&self, account: &str) -> Result<Option<Secret>, SecretError>;
    fn set(&self, account: &str, value: &Secret) -> Result<(), SecretError>;
    /// Deleting a missing entry is `Ok(())`.
    fn delete(&self, account: &str) -> Result<(), SecretError>;
}

/// The OS keyring: Secret Service, macOS Keychain, Windows Credential Manager.
pub struct OsKeyring {
    service: String,
}

impl Default for OsKeyring {
    fn default() -> Self {
        Self::new()
    }
}

impl OsKeyring {
    pub fn new() -> Self {
        OsKeyring { service: SERVICE.to_owned() }
    }

    /// A cheap probe, so a command can fail early with the clear message.
    pub fn check_available(&self) -> Result<(), SecretError> {
        self.get("availability-check").map(|_| ())
    }

    fn entry(&self, account: &str) -> Result<keyring::Entry, SecretError> {
        keyring::Entry::new(&self.service, account).map_err(|e| map_err(e, account))
    }
}

fn map_err(e: keyring::Error, account: &str) -> SecretError {
    use keyring::Error as K;
    match e {
        K::NoStorageAccess(inner) => {
            let detail = inner.to_string();
            if detail.to_ascii_lowercase().contains("lock") {
                SecretError::Locked { detail }
            } else {
                SecretError::Unavailable { detail }
            }
        }
        K::PlatformFailure(inner) => SecretError::Unavailable { detail: inner.to_string() },
        K::Ambiguous(_) => SecretError::Ambiguous { account: account.to_owned() },
        other => SecretError::Rejected { account: account.to_owned(), detail: other.to_string() },
    }
}

impl SecretStore for OsKeyring {
    fn get(&self, account: &str) -> Result<Option<Secret>, SecretError> {
        match self.entry(account)?.get_password() {
            Ok(value) => Ok(Some(Secret::new(value))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_err(e, account)),
        }
    }

    fn set(&self, account: &str, value: &Secret) -> Result<(), SecretError> {
        self.entry(account)?.set_password(value.expose()).map_err(|e| map_err(e, account))
    }

    fn delete(&self, account: &str) -> Result<(), SecretError> {
        match self.entry(account)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(map_err(e, account)),
        }
    }
}

/// Unit tests only: never compiled into the product.
#[cfg(test)]
#[derive(Default)]
pub struct MemoryStore(std::sync::Mutex<std::collections::HashMap<String, Secret>>);

#[cfg(test)]
impl SecretStore for MemoryStore {
    fn get(&self, account: &str) -> Result<Option<Secret>, SecretError> {
        Ok(self.0.lock().unwrap().get(account).cloned())
    }
    fn set(&self, account: &str, value: &Secret) -> Result<(), SecretError> {
        self.0.lock().unwrap().insert(account.to_owned(), value.clone());
        Ok(())
    }
    fn delete(&self, account: &str) -> Result<(), SecretError> {
        self.0.lock().unwrap().remove(account);
        Ok(())
    }
}
