//! Errors cross IPC as `{code, message}`: the code is chom-core's stable
//! `ErrorCode`, the message says what failed and what to do.

use serde::Serialize;

use chom_core::ErrorCode;

/// `code` reaches the UI as a TypeScript union of the codes.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct UiError {
    pub code: ErrorCode,
    pub message: String,
}

impl UiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> UiError {
        UiError { code, message: message.into() }
    }
}

impl From<chom_core::Error> for UiError {
    fn from(e: chom_core::Error) -> Self {
        UiError { code: e.code(), message: e.to_string() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape the UI reads (`ui/src/api`), pinned: a stable code and
    /// the core's message.
    #[test]
    fn errors_cross_ipc_as_code_and_message() {
        let tampered = chom_core::web::WebError::Tampered {
            server: "web0".into(),
            what: "deploy".into(),
            path: "/var/www/a.test/releases".into(),
            detail: "(a link to /srv/x where a folder should be); CHOM changed nothing more".into(),
        };
        let e = UiError::from(chom_core::Error::from(tampered));
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({
                "code": "remote_failed",
                "message": "deploy stopped on web0: site tampered: /var/www/a.test/releases \
                            (a link to /srv/x where a folder should be); CHOM changed nothing more"
            })
        );
    }
}
