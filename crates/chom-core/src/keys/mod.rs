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
