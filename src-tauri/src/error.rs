//! Errors cross IPC as `{code, message, remedy}`: the code is chom-core's
//! stable `ErrorCode`, the message says what failed and what to do, the
//! remedy (when there is one) is what the UI offers to do it.

use serde::Serialize;

use chom_core::{ErrorCode, Remedy};

/// `code` reaches the UI as a TypeScript union of the codes.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct UiError {
    pub code: ErrorCode,
    pub message: String,
    pub remedy: Option<Remedy>,
}

impl UiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> UiError {
        UiError { code, message: message.into(), remedy: None }
    }
}

impl From<chom_core::Error> for UiError {
    fn from(e: chom_core::Error) -> Self {
        UiError { code: e.code(), message: e.to_string(), remedy: e.remedy() }
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
                            (a link to /srv/x where a folder should be); CHOM changed nothing more",
                "remedy": null
            })
        );
        let changed = chom_core::ssh::SshError::HostKeyChanged {
            server: "web0".into(),
            pinned: "SHA256:old".into(),
            offered: "SHA256:new".into(),
        };
        let e = serde_json::to_value(UiError::from(chom_core::Error::from(changed))).unwrap();
        assert_eq!(e["code"], "host_key_changed");
        assert_eq!(
            e["remedy"],
            serde_json::json!({ "kind": "trust_host_key", "server": "web0", "accept": "SHA256:new" })
        );
        assert!(!e["message"].as_str().unwrap().contains("chom "), "a core message names no CLI command: {e}");
    }
}
