//! SSH key material: generate ed25519 keys, import OpenSSH (and legacy PEM)
//! private keys, fingerprints exactly as `ssh-keygen -lf` prints them. The
//! private half only ever leaves here as a `Secret`, bound for the keyring.

use russh::keys::ssh_key::{private::Ed25519Keypair, LineEnding};
use russh::keys::{Algorithm, EcdsaCurve, HashAlg, PrivateKey, PublicKey};
use serde::Serialize;

use crate::code::ErrorCode;
use crate::secret::Secret;

#[derive(Debug, Clone, thiserror::Error)]
pub enum KeyError {
    #[error("wrong passphrase for the key file; nothing was stored")]
    WrongPassphrase,
    #[error("the key file is encrypted: give its passphrase")]
    PassphraseRequired,
    #[error("unsupported key type {algorithm}: use ed25519, ECDSA (P-256/384/521) or RSA of at least 2048 bits")]
    Unsupported { algorithm: String },
    #[error(
        "not a readable SSH private key ({detail}); export it in OpenSSH format (`ssh-keygen -p -f FILE` converts it)"
    )]
    Malformed { detail: String },
    #[error("the private key stored in the keyring is unreadable ({detail}); import the key again")]
    Corrupt { detail: String },
}

impl KeyError {
    pub fn code(&self) -> ErrorCode {
        match self {
            KeyError::Corrupt { .. } => ErrorCode::Keyring,
            _ => ErrorCode::InvalidInput,
        }
    }
}

/// A public key as the operator sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublicKeyInfo {
    /// "ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa".
    pub algorithm: String,
    pub bits: u32,
    /// "SHA256:..." exactly as `ssh-keygen -lf` prints it.
    pub fingerprint: String,
    /// One authorized_keys line: "ssh-ed25519 AAAA... comment".
    pub openssh: String,
}

impl PublicKeyInfo {
    /// "256 SHA256:... comment (ED25519)", the `ssh-keygen -lf` line.
    pub fn ssh_keygen_line(&self, comment: &str) -> String {
        let kind = match self.algorithm.as_str() {
            a if a.contains("ed25519") => "ED25519",
            a if a.starts_with("ecdsa") => "ECDSA",
            _ => "RSA",
        };
        format!("{} {} {} ({kind})", self.bits, self.fingerprint, comment)
    }
}

/// A key pair on its way into the keyring.
pub struct KeyPair {
    pub public: PublicKeyInfo,
    /// Unencrypted OpenSSH PEM: the keyring protects it at rest.
    pub private_openssh: Secret,
}

pub fn fingerprint_of(public: &PublicKey) -> String {
    public.fingerprint(HashAlg::Sha256).to_string()
}

fn bits_of(public: &PublicKey) -> u32 {
    match public.algorithm() {
        Algorithm::Ecdsa { curve: EcdsaCurve::NistP256 } => 256,
        Algorithm::Ecdsa { curve: EcdsaCurve::NistP384 } => 384,
        Algorithm::Ecdsa { curve: EcdsaCurve::NistP521 } => 521,
        Algorithm::Rsa { .. } => public.key_data().rsa().map_or(0, |r| r.key_size()),
        _ => 256,
    }
}

pub fn describe_public(public: &PublicKey, comment: &str) -> PublicKeyInfo {
    let mut public = public.clone();
    public.set_comment(comment);
    PublicKeyInfo {
        algorithm: public.algorithm().as_str().to_owned(),
        bits: bits_of(&public),
        fingerprint: fingerprint_of(&public),
        openssh: public.to_openssh().unwrap_or_default(),
    }
}

/// `comment` is used only when the key has none of its own, so an imported
/// key keeps the comment `ssh-keygen -lf` shows for it.
fn into_pair(mut key: PrivateKey, comment: &str) -> Result<KeyPair, KeyError> {
    let supported = match key.algorithm() {
        Algorithm::Ed25519 | Algorithm::Ecdsa { .. } => true,
        Algorithm::Rsa { .. } => bits_of(key.public_key()) >= 2048,
        _ => false,
    };
    if !supported {
        let algorithm = format!("{} ({} bits)", key.algorithm().as_str(), bits_of(key.public_key()));
        return Err(KeyError::Unsupported { algorithm });
    }
    if key.comment().is_empty() {
        key.set_comment(comment);
    }
    let comment = key.comment().as_str_lossy().to_owned();
    let pem = key.to_openssh(LineEnding::LF).map_err(|e| KeyError::Malformed { detail: e.to_string() })?;
    Ok(KeyPair { public: describe_public(key.public_key(), &comment), private_openssh: Secret::new(pem.as_str()) })
}

/// A new ed25519 key from the OS random generator.
pub fn generate_ed25519(comment: &str) -> Result<KeyPair, KeyError> {
    let mut seed = zeroize::Zeroizing::new([0u8; 32]);
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, seed.as_mut());
    let key = PrivateKey::from(Ed25519Keypair::from_seed(&seed));
    into_pair(key, comment)
}

/// Imports a private key file's text. OpenSSH format (the default of
/// `ssh-keygen` since 7.8), encrypted or not; legacy PEM and PKCS#8 too.
pub fn import_private(pem: &Secret, passphrase: Option<&Secret>, comment: &str) -> Result<KeyPair, KeyError> {
    let text = pem.expose().trim();
    let key = if text.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----") {
        let key = PrivateKey::from_openssh(text).map_err(|e| KeyError::Malformed { detail: e.to_string() })?;
        if key.is_encrypted() {
            let passphrase = passphrase.filter(|p| !p.is_empty()).ok_or(KeyError::PassphraseRequired)?;
            key.decrypt(passphrase.expose()).map_err(|_| KeyError::WrongPassphrase)?
        } else {
            key
        }
    } else if text.starts_with("-----BEGIN ") {
        let encrypted = text.contains("ENCRYPTED");
        match russh::keys::decode_secret_key(text, passphrase.map(|p| p.expose())) {
            Ok(key) => key,
            Err(russh::keys::Error::KeyIsEncrypted) => return Err(KeyError::PassphraseRequired),
            Err(_) if encrypted && passphrase.is_none() => return Err(KeyError::PassphraseRequired),
            Err(_) if encrypted => return Err(KeyError::WrongPassphrase),
            Err(e) => return Err(KeyError::Malformed { detail: e.to_string() }),
        }
    } else {
        return Err(KeyError::Malformed { detail: "no '-----BEGIN ... PRIVATE KEY-----' line".into() });
    };
    into_pair(key, comment)
}

/// The private key for the SSH engine, from its keyring form.
pub fn decode_private(private_openssh: &Secret) -> Result<PrivateKey, KeyError> {
    PrivateKey::from_openssh(private_openssh.expose()).map_err(|e| KeyError::Corrupt { detail: e.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_round_trip_through_their_keyring_form() {
        let pair = generate_ed25519("chom:test").unwrap();
        assert_eq!(pair.public.algorithm, "ssh-ed25519");
        assert_eq!(pair.public.bits, 256);
        assert!(pair.public.fingerprint.starts_with("SHA256:"));
        assert!(pair.public.openssh.starts_with("ssh-ed25519 AAAA") && pair.public.openssh.ends_with(" chom:test"));
        let key = decode_private(&pair.private_openssh).unwrap();
        assert_eq!(fingerprint_of(key.public_key()), pair.public.fingerprint);
        let other = generate_ed25519("x").unwrap();
        assert_ne!(other.public.fingerprint, pair.public.fingerprint);
    }

    #[test]
    fn garbage_is_malformed_and_not_echoed() {
        let err = import_private(&Secret::new("hunter2 not a key"), None, "c").err().unwrap();
        assert!(matches!(err, KeyError::Malformed { .. }));
        assert!(!err.to_string().contains("hunter2"));
        let err = import_private(
            &Secret::new("-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----"),
            None,
            "c",
        );
        assert!(matches!(err, Err(KeyError::Malformed { .. })));
    }

    #[test]
    fn keygen_line_matches_ssh_keygen_layout() {
        let info = PublicKeyInfo {
            algorithm: "ssh-ed25519".into(),
            bits: 256,
            fingerprint: "SHA256:x".into(),
            openssh: String::new(),
        };
        assert_eq!(info.ssh_keygen_line("me@host"), "256 SHA256:x me@host (ED25519)");
    }
}
