//! What the operator can do about an error, as data: each front end says it
//! its own way (the CLI as a command line, the app as where to click), so
//! the core's messages say what to do in words and name no command or flag.

use serde::Serialize;

/// Things a list can show, for a name that was not found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Listing {
    Servers,
    Sites,
    Keys,
    Jobs,
    Backups,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Remedy {
    /// Verify the key with the provider, then trust it (`accept`: the
    /// fingerprint the server offers, when one was seen).
    TrustHostKey {
        server: String,
        accept: Option<String>,
    },
    /// Put the key's public half in the user's authorized_keys.
    InstallPublicKey {
        key: String,
        user: String,
    },
    /// Give the server a key.
    SetServerKey {
        server: String,
    },
    /// Close a paused server's breaker now.
    ResumeServer {
        server: String,
    },
    EnableSite {
        site: String,
    },
    /// See what exists.
    List {
        what: Listing,
    },
    /// Generate or import a key.
    AddKey,
    /// Probe the fleet so placement knows the servers' capacity.
    ProbeAll,
    /// Use another data directory.
    OtherDataDir,
    /// Give the step a longer limit, if it really needs that long.
    RaiseStepLimit {
        step: String,
    },
}
