//! Keys: the public half and metadata in SQLite, the private half only in
//! the OS keyring.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use russh::keys::{PrivateKey, PublicKey};
use serde::Serialize;

use crate::db::KeyRecord;
use crate::error::{Error, Result};
use crate::ids::KeyId;
use crate::keys::{self as keymat, KeyPair};
use crate::remedy::{Listing, Remedy};
use crate::secret::Secret;
use crate::ssh::{self, Credential};
use crate::validate::KeyName;

use super::{Ctx, Keys};

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct KeyView {
    pub name: String,
    pub algorithm: String,
    pub bits: u32,
    pub fingerprint: String,
    pub public_key: String,
    /// Its private half is in the operator's ssh-agent, not the keyring.
    pub agent: bool,
    pub created_at: DateTime<Utc>,
    /// Servers that log in with this key.
    pub used_by: Vec<String>,
}

/// A key the operator's ssh-agent holds.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AgentKeyView {
    pub algorithm: String,
    pub fingerprint: String,
    pub comment: String,
    /// The CHOM key it is registered as.
    pub chom_key: Option<String>,
}

impl Keys<'_> {
    /// Generates an ed25519 key; its private half goes to the OS keyring.
    pub fn generate_key(&self, name: &str) -> Result<KeyView> {
        let name = KeyName::parse(name)?;
        self.ensure_key_name_free(&name)?;
        let pair = keymat::generate_ed25519(&format!("chom:{name}"))?;
        self.store_key(name, pair, "key.generate")
    }

    /// Imports an OpenSSH private key. A wrong passphrase stores nothing.
    pub fn import_key(&self, name: &str, pem: &Secret, passphrase: Option<&Secret>) -> Result<KeyView> {
        let name = KeyName::parse(name)?;
        self.ensure_key_name_free(&name)?;
        let pair = keymat::import_private(pem, passphrase, &format!("chom:{name}"))?;
        self.store_key(name, pair, "key.import")
    }

    /// Registers a key the operator's ssh-agent holds (by its fingerprint)
    /// as key `name`: servers can log in with it, the agent signing; CHOM
    /// keeps only the public half.
    pub async fn add_agent_key(&self, name: &str, fingerprint: &str) -> Result<KeyView> {
        let name = KeyName::parse(name)?;
        self.ensure_key_name_free(&name)?;
        let held = ssh::agent::identities().await?;
        let Some((public, comment)) = held.iter().find(|(k, _)| keymat::fingerprint_of(k) == fingerprint.trim()) else {
            let listed: Vec<String> = held.iter().map(|(k, _)| keymat::fingerprint_of(k)).collect();
            return Err(Error::Usage(format!(
                "the ssh-agent holds no key {}; it holds: {} (ssh-add KEYFILE adds one)",
                fingerprint.trim(),
                if listed.is_empty() { "none".to_owned() } else { listed.join(", ") }
            )));
        };
        let view = keymat::describe_public(public, comment);
        let record = KeyRecord {
            id: KeyId(0),
            name: name.clone(),
            algorithm: view.algorithm,
            bits: view.bits,
            public_key: view.openssh,
            fingerprint: view.fingerprint.clone(),
            // Nothing is in the keyring; the column is unique, so each
            // agent key gets a name of its own there.
            keyring_account: format!("agent:{}", hex(&rand::random::<[u8; 16]>())),
            agent: true,
            created_at: Utc::now(),
        };
        let stored =
            self.db.insert_key(&record)?.ok_or_else(|| Error::AlreadyExists { what: "key", name: name.to_string() })?;
        self.audit("key.add_agent", None, Some(name.as_str()), true, &view.fingerprint);
        self.key_view(stored)
    }

    /// The keys the operator's ssh-agent holds, and which CHOM key (if any)
    /// each one is.
    pub async fn agent_keys(&self) -> Result<Vec<AgentKeyView>> {
        let known = self.db.list_keys()?;
        Ok(ssh::agent::identities()
            .await?
            .into_iter()
            .map(|(key, comment)| {
                let view = keymat::describe_public(&key, &comment);
                let chom_key = known.iter().find(|k| k.fingerprint == view.fingerprint).map(|k| k.name.to_string());
                AgentKeyView { algorithm: view.algorithm, fingerprint: view.fingerprint, comment, chom_key }
            })
            .collect())
    }

    pub fn list_keys(&self) -> Result<Vec<KeyView>> {
        self.db.list_keys()?.into_iter().map(|k| self.key_view(k)).collect()
    }

    pub fn key(&self, name: &str) -> Result<KeyView> {
        let record = self.key_record(name)?;
        self.key_view(record)
    }

    /// Deletes a key no server uses: keyring entry first, then the row.
    pub fn delete_key(&self, name: &str) -> Result<()> {
        let record = self.key_record(name)?;
        let users = self.db.servers_using_key(record.id)?;
        if !users.is_empty() {
            return Err(Error::KeyInUse { key: record.name.to_string(), servers: users.join(", ") });
        }
        // A switched server may still authorize the old key: its journal
        // row is what finishes the removal, so the key stays until then.
        let unfinished: Vec<String> = self
            .db
            .rotations_of_key(record.id)?
            .into_iter()
            .filter(|r| r.state != crate::db::RotationState::Done)
            .map(|r| format!("{} ({} -> {}: {})", r.server, r.old_key, r.new_key, r.state.as_str()))
            .collect();
        if !unfinished.is_empty() {
            return Err(Error::Usage(format!(
                "key {} has an unfinished rotation on {}: run `chom key rotate` for it again first",
                record.name,
                unfinished.join(", ")
            )));
        }
        if !record.agent {
            self.secrets.delete(&record.keyring_account)?;
        }
        self.db.delete_key(record.id)?;
        self.key_cache.lock().unwrap_or_else(|p| p.into_inner()).remove(record.name.as_str());
        self.audit("key.delete", None, Some(record.name.as_str()), true, &record.fingerprint);
        Ok(())
    }
}

impl Ctx {
    fn key_view(&self, k: KeyRecord) -> Result<KeyView> {
        let used_by = self.db.servers_using_key(k.id)?;
        Ok(KeyView {
            name: k.name.to_string(),
            algorithm: k.algorithm,
            bits: k.bits,
            fingerprint: k.fingerprint,
            public_key: k.public_key,
            agent: k.agent,
            created_at: k.created_at,
            used_by,
        })
    }

    pub(super) fn key_record(&self, name: &str) -> Result<KeyRecord> {
        let name = KeyName::parse(name)?;
        self.db.key_by_name(&name)?.ok_or_else(|| Error::NotFound {
            what: "key",
            name: name.to_string(),
            remedy: Remedy::List { what: Listing::Keys },
        })
    }

    fn ensure_key_name_free(&self, name: &KeyName) -> Result<()> {
        match self.db.key_by_name(name)? {
            Some(_) => Err(Error::AlreadyExists { what: "key", name: name.to_string() }),
            None => Ok(()),
        }
    }

    /// Keyring first, then the row: a failing keyring leaves no row that
    /// points at nothing; a failing insert removes the keyring entry again.
    fn store_key(&self, name: KeyName, pair: KeyPair, action: &str) -> Result<KeyView> {
        let account = format!("key:{}", hex(&rand::random::<[u8; 16]>()));
        self.secrets.set(&account, &pair.private_openssh)?;
        let record = KeyRecord {
            id: KeyId(0),
            name: name.clone(),
            algorithm: pair.public.algorithm.clone(),
            bits: pair.public.bits,
            public_key: pair.public.openssh.clone(),
            fingerprint: pair.public.fingerprint.clone(),
            keyring_account: account.clone(),
            agent: false,
            created_at: Utc::now(),
        };
        let inserted = match self.db.insert_key(&record) {
            Ok(Some(k)) => k,
            other => {
                let _ = self.secrets.delete(&account);
                other?;
                return Err(Error::AlreadyExists { what: "key", name: name.to_string() });
            }
        };
        self.audit(action, None, Some(name.as_str()), true, &record.fingerprint);
        self.key_view(inserted)
    }

    /// The decoded private key, read from the keyring once per process.
    /// What signs logins with key `name`: the agent, for an agent key (it
    /// must hold the key: asked at login), else the private key from the
    /// keyring.
    pub(super) async fn credential(&self, name: &KeyName) -> Result<Credential> {
        let record = self.key_record(name.as_str())?;
        if record.agent {
            let public = PublicKey::from_openssh(&record.public_key).map_err(|e| Error::Internal(e.to_string()))?;
            return Ok(Credential::Agent(public));
        }
        Ok(Credential::Private(self.private_key(name).await?))
    }

    async fn private_key(&self, name: &KeyName) -> Result<Arc<PrivateKey>> {
        if let Some(k) = self.key_cache.lock().unwrap_or_else(|p| p.into_inner()).get(name.as_str()) {
            return Ok(k.clone());
        }
        let record = self.key_record(name.as_str())?;
        let (secrets, account) = (self.secrets.clone(), record.keyring_account.clone());
        // The keyring blocks on D-Bus; keep it off the async workers.
        let secret = tokio::task::spawn_blocking(move || secrets.get(&account)).await??.ok_or_else(|| {
            Error::Usage(format!(
                "the private key of {name} is missing from the OS keyring (was the keyring reset, or is this \
                 another user's session?); import it again under a new name and point its servers at it"
            ))
        })?;
        let key = Arc::new(keymat::decode_private(&secret)?);
        self.key_cache.lock().unwrap_or_else(|p| p.into_inner()).insert(name.to_string(), key.clone());
        Ok(key)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
