use crate::error::ErrorCode;
#[derive(Debug, thiserror::Error)]
pub enum SshError {
    #[error("ssh support is being built")]
    NotBuilt,
}
impl SshError {
    pub fn code(&self) -> ErrorCode {
        ErrorCode::Internal
    }
}
