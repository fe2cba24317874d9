//! PLACEHOLDER, replaced by the keys work (see the task). Not a product path.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("keyring support is being built")]
    NotBuilt,
}
