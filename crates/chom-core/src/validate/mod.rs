//! Inputs parsed once at the edge. Every value that reaches SQL, a socket or a
//! remote shell goes through one of these types first; the error names the
//! field, shows a safe preview of the value and states the rule.

mod backup;
mod site;

pub use backup::{BackupPath, SharedFolder};
pub use site::{DomainName, GitRef, GitUrl, HealthPath, HttpsUrl, PhpVersion, ReleaseId, RemotePath, SitePath};

use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::IpAddr;

/// A rejected input: which field, a printable preview of the value, the rule.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("invalid {field} {preview}: {rule}")]
pub struct ValidationError {
    pub field: &'static str,
    pub preview: String,
    pub rule: String,
}

impl ValidationError {
    pub fn new(field: &'static str, value: &str, rule: impl Into<String>) -> Self {
        Self { field, preview: preview(value), rule: rule.into() }
    }
}

/// A quoted, escaped, length-capped rendering of untrusted input, safe to print
/// on a terminal or in a log (no control characters, no 10 kB walls).
pub fn preview(value: &str) -> String {
    const MAX: usize = 40;
    let mut out: String = value.chars().take(MAX).collect::<String>().escape_debug().to_string();
    if value.chars().count() > MAX {
        out.push_str(&format!("… ({} chars)", value.chars().count()));
    }
    format!("\"{out}\"")
}

const NAME_RULE: &str = "use 1-63 characters from letters, digits, '.', '_' and '-', starting with a letter or digit";

fn check_name(field: &'static str, value: &str) -> Result<(), ValidationError> {
    let ok = !value.is_empty()
        && value.len() <= 63
        && value.as_bytes()[0].is_ascii_alphanumeric()
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(ValidationError::new(field, value, NAME_RULE))
    }
}

/// The conversions every validated string type has: `as_str`, `Display`,
/// and serde/`String` round trips that always go through `parse`.
macro_rules! string_type {
    ($ty:ident) => {
        impl $ty {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $ty {
            type Error = $crate::validate::ValidationError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }

        impl From<$ty> for String {
            fn from(value: $ty) -> String {
                value.0
            }
        }

        /// A plain string in TypeScript, as in JSON.
        #[cfg(feature = "specta")]
        impl specta::Type for $ty {
            fn definition(types: &mut specta::Types) -> specta::datatype::DataType {
                <String as specta::Type>::definition(types)
            }
        }

        impl std::str::FromStr for $ty {
            type Err = $crate::validate::ValidationError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
    };
}
pub(crate) use string_type;

macro_rules! safe_name {
    ($(#[$doc:meta])* $ty:ident, $field:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $ty(String);

        impl $ty {
            pub const FIELD: &'static str = $field;

            pub fn parse(value: &str) -> Result<Self, ValidationError> {
                check_name($field, value)?;
                Ok(Self(value.to_owned()))
            }
        }

        string_type!($ty);
    };
}

safe_name!(
    /// A server's unique name in the inventory.
    ServerName, "server name"
);
safe_name!(
    /// A key's unique name.
    KeyName, "key name"
);
safe_name!(
    /// A free-form label on a server.
    Tag, "tag"
);
safe_name!(
    /// The client or project a server belongs to.
    GroupName, "group"
);

/// A DNS name or an IPv4/IPv6 literal. Never starts with '-', so it can not be
/// mistaken for an option by any tool it is handed to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Host(String);

impl Host {
    pub const FIELD: &'static str = "host";

    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        // Accept the bracketed IPv6 form operators paste from URLs.
        let bare = value.strip_prefix('[').and_then(|v| v.strip_suffix(']')).unwrap_or(value);
        if let Ok(ip) = bare.parse::<IpAddr>() {
            return Ok(Self(ip.to_string()));
        }
        if is_dns_name(value) {
            return Ok(Self(value.to_ascii_lowercase()));
        }
        Err(ValidationError::new(
            Self::FIELD,
            value,
            "use a DNS name (labels of letters, digits and '-', not starting or ending with '-', \
             at most 253 characters) or an IPv4/IPv6 address",
        ))
    }

    pub fn ip(&self) -> Option<IpAddr> {
        self.0.parse().ok()
    }
}

string_type!(Host);

fn is_dns_name(value: &str) -> bool {
    let name = value.strip_suffix('.').unwrap_or(value);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        // A name made only of digits and dots is a malformed IPv4 address.
        && !name.bytes().all(|b| b.is_ascii_digit() || b == b'.')
}

/// A TCP port, 1-65535.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u16")]
pub struct Port(u16);

impl Port {
    pub const FIELD: &'static str = "port";
    pub const SSH: Port = Port(22);

    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        value
            .trim()
            .parse::<u32>()
            .ok()
            .and_then(|n| Self::try_from(n).ok())
            .ok_or_else(|| ValidationError::new(Self::FIELD, value, "use a number from 1 to 65535"))
    }

    pub fn get(self) -> u16 {
        self.0
    }
}

impl TryFrom<u32> for Port {
    type Error = ValidationError;
    fn try_from(n: u32) -> Result<Self, Self::Error> {
        match u16::try_from(n) {
            Ok(p) if p > 0 => Ok(Self(p)),
            _ => Err(ValidationError::new(Self::FIELD, &n.to_string(), "use a number from 1 to 65535")),
        }
    }
}

impl From<Port> for u16 {
    fn from(p: Port) -> u16 {
        p.0
    }
}

impl fmt::Display for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A POSIX login name: a letter or '_' first, then letters, digits, '.', '_'
/// or '-', at most 32 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UnixUser(String);

impl UnixUser {
    pub const FIELD: &'static str = "user";

    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        let ok = !value.is_empty()
            && value.len() <= 32
            && (value.as_bytes()[0].is_ascii_alphabetic() || value.as_bytes()[0] == b'_')
            && value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if ok {
            Ok(Self(value.to_owned()))
        } else {
            Err(ValidationError::new(
                Self::FIELD,
                value,
                "use a POSIX user name: 1-32 characters, a letter or '_' first, then letters, \
                 digits, '.', '_' or '-'",
            ))
        }
    }
}

string_type!(UnixUser);

/// Free text kept only in SQLite (never sent to a server): bounded, printable.
pub fn parse_notes(value: &str) -> Result<String, ValidationError> {
    if value.chars().count() > 4000 {
        return Err(ValidationError::new("notes", value, "use at most 4000 characters"));
    }
    if value.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(ValidationError::new(
            "notes",
            value,
            "control characters other than newline and tab are not allowed",
        ));
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_ids_are_plain_and_new_ones_parse() {
        for bad in ["", "-x", "../etc", "a b", "a;rm -rf /", "A1", "r\n1", "$(id)", &"9".repeat(65)] {
            assert!(ReleaseId::parse(bad).is_err(), "release {bad:?}");
        }
        let fresh = ReleaseId::new_now();
        assert_eq!(ReleaseId::parse(&fresh).unwrap(), fresh);
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert!(ReleaseId::new_now() > fresh, "a later release sorts after {fresh}");
    }

    const HOSTILE: &[&str] = &[
        "a;rm -rf /",
        "$(touch /tmp/pwned)",
        "`touch /tmp/pwned`",
        "a\nb",
        "a\0b",
        "-oProxyCommand=touch /tmp/pwned",
        "../../etc/passwd",
        "",
        " ",
        "a b",
    ];

    #[test]
    fn hostile_values_are_rejected_everywhere() {
        let long = "a".repeat(10_000);
        for v in HOSTILE.iter().copied().chain([long.as_str()]) {
            assert!(ServerName::parse(v).is_err(), "server name {v:?}");
            assert!(Tag::parse(v).is_err(), "tag {v:?}");
            assert!(GroupName::parse(v).is_err(), "group {v:?}");
            assert!(KeyName::parse(v).is_err(), "key {v:?}");
            assert!(Host::parse(v).is_err(), "host {v:?}");
            assert!(UnixUser::parse(v).is_err(), "user {v:?}");
        }
    }

    #[test]
    fn good_values_pass() {
        assert!(ServerName::parse("web-1.prod").is_ok());
        assert_eq!(Host::parse("Example.COM").unwrap().as_str(), "example.com");
        assert_eq!(Host::parse("127.0.0.5").unwrap().as_str(), "127.0.0.5");
        assert_eq!(Host::parse("[::1]").unwrap().as_str(), "::1");
        assert!(Host::parse("fe80::1").is_ok());
        assert!(UnixUser::parse("deploy").is_ok());
        assert!(UnixUser::parse("_svc-1").is_ok());
    }

    #[test]
    fn ports_outside_the_range_are_rejected() {
        for p in ["0", "65536", "-1", "", "22a", "99999999999"] {
            let err = Port::parse(p).unwrap_err();
            assert_eq!(err.field, "port");
        }
        assert_eq!(Port::parse("2222").unwrap().get(), 2222);
        assert_eq!(Port::parse("65535").unwrap().get(), 65535);
    }

    #[test]
    fn malformed_ipv4_is_not_a_dns_name() {
        assert!(Host::parse("300.1.1.1").is_err());
        assert!(Host::parse("1.2.3").is_err());
    }

    #[test]
    fn errors_name_the_field_and_cap_the_preview() {
        let err = ServerName::parse(&"x;".repeat(5000)).unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("invalid server name"), "{msg}");
        assert!(msg.len() < 300, "{msg}");
        let err = Host::parse("a\nb").unwrap_err().to_string();
        assert!(!err.contains('\n'), "{err}");
    }
}
