//! Errors cross IPC as `{code, message}`: the code is chom-core's stable
//! `ErrorCode`, the message says what failed and what to do.

use serde::Serialize;

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct UiError {
    pub code: String,
    pub message: String,
}

impl From<chom_core::Error> for UiError {
    fn from(e: chom_core::Error) -> Self {
        UiError { code: e.code().as_str().to_owned(), message: e.to_string() }
    }
}
