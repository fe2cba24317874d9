//! PLACEHOLDER, replaced by the keys work (see the task). Not a product path.
use crate::error::ErrorCode;
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("key support is being built")]
    NotBuilt,
}
impl KeyError {
    pub fn code(&self) -> ErrorCode {
        ErrorCode::Internal
    }
}
pub fn fingerprint_of(public: &russh::keys::PublicKey) -> String {
    public.fingerprint(russh::keys::HashAlg::Sha256).to_string()
}
