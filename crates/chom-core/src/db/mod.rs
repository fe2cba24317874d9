use crate::error::ErrorCode;
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database support is being built")]
    NotBuilt,
}
impl DbError {
    pub fn code(&self) -> ErrorCode {
        ErrorCode::Database
    }
}
