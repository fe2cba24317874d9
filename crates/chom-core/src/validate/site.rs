//! Inputs of the sites and deploys area: domain names (IDN to punycode),
//! paths inside a site, git sources. Parsed once here; every later use can
//! rely on them being plain and safe.

use serde::{Deserialize, Serialize};

use super::{string_type, ValidationError};

/// A site's domain: RFC 1035 labels (letters, digits, '-', not at either
/// end, 1-63 each, 253 in all), at least two labels, stored lowercase and in
/// punycode (`bücher.example` -> `xn--bcher-kva.example`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DomainName(String);

impl DomainName {
    pub const FIELD: &'static str = "domain";

    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        let err = |rule: &str| ValidationError::new(Self::FIELD, value, rule);
        if value.is_empty() || value.len() > 253 * 4 {
            return Err(err("use a domain name such as example.com (at most 253 characters)"));
        }
        if value
            .chars()
            .any(|c| (c.is_ascii_punctuation() && !matches!(c, '.' | '-')) || c.is_whitespace() || c.is_control())
        {
            return Err(err("only letters, digits, '-' and '.' are allowed (no shell or path characters)"));
        }
        // "example.com." (the absolute form DNS tools print) is the same name.
        let name = value.strip_suffix('.').unwrap_or(value);
        let ascii = idna::domain_to_ascii_strict(name)
            .map_err(|_| err("not a valid domain name (labels of letters, digits and '-', one dot between them)"))?;
        let labels: Vec<&str> = ascii.split('.').collect();
        if ascii.len() > 253 {
            return Err(err("at most 253 characters once converted to punycode"));
        }
        if labels.len() < 2 {
            return Err(err("use a full domain name with at least one dot, such as example.com"));
        }
        for label in &labels {
            if label.is_empty() || label.len() > 63 {
                return Err(err("each label between dots must be 1-63 characters"));
            }
            if label.starts_with('-') || label.ends_with('-') {
                return Err(err("a label can not start or end with '-'"));
            }
            if !label.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
                return Err(err("only letters, digits and '-' in each label"));
            }
        }
        Ok(DomainName(ascii))
    }
}

string_type!(DomainName);

/// A release of a site, as CHOM names them (`20261124-190512-042-3fa2`,
/// see `release_id`) and as the server lists them: lowercase letters,
/// digits and '-', at most 64, not starting with '-'. It reaches a remote
/// shell (rollback's target), so nothing else gets through.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ReleaseId(String);

impl ReleaseId {
    pub const FIELD: &'static str = "release";

    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        let plain = value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if value.is_empty() || value.len() > 64 || value.starts_with('-') || !plain {
            return Err(ValidationError::new(Self::FIELD, value, "a release id as the site's releases list it"));
        }
        Ok(ReleaseId(value.to_owned()))
    }

    /// A new release's id: it sorts by time, to the millisecond, with a
    /// random tail against two desktops in the same millisecond.
    pub fn new_now() -> ReleaseId {
        ReleaseId(format!("{}-{:04x}", chrono::Utc::now().format("%Y%m%d-%H%M%S-%3f"), rand::random::<u16>()))
    }
}

string_type!(ReleaseId);

/// A release id is used as text everywhere (paths, report lines, rows).
impl std::ops::Deref for ReleaseId {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for ReleaseId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

/// A relative path inside a site (shared files, hooks): no '..', not
/// absolute, no empty or hidden-dot segments, a safe alphabet.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SitePath(String);

impl SitePath {
    pub const FIELD: &'static str = "path";

    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        let err = |rule: &str| ValidationError::new(Self::FIELD, value, rule);
        if value.is_empty() || value.len() > 255 {
            return Err(err("use a relative path of 1-255 characters"));
        }
        if value.starts_with('/') {
            return Err(err("use a path relative to the site, not an absolute one"));
        }
        for segment in value.split('/') {
            if segment.is_empty() || segment == "." || segment == ".." {
                return Err(err("no empty, '.' or '..' segments"));
            }
            if segment.starts_with('-') {
                return Err(err("a segment can not start with '-'"));
            }
            if !segment.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')) {
                return Err(err("only letters, digits, '.', '_', '-' and '/' are allowed"));
            }
        }
        Ok(SitePath(value.to_owned()))
    }
}

string_type!(SitePath);

/// A file's path on a server, for a download or an upload: absolute, no
/// empty, '.' or '..' segments, no control characters (it is quoted for
/// the shell; this keeps it readable in logs and errors).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RemotePath(String);

impl RemotePath {
    pub const FIELD: &'static str = "remote path";

    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        let err = |rule: &str| ValidationError::new(Self::FIELD, value, rule);
        if !value.starts_with('/') || value.len() < 2 || value.len() > 4096 {
            return Err(err("use an absolute path such as /var/backups/site.tar.gz (at most 4096 characters)"));
        }
        if value.chars().any(char::is_control) {
            return Err(err("no control characters (newlines, tabs, NUL)"));
        }
        if value[1..].split('/').any(|s| s.is_empty() || s == "." || s == "..") {
            return Err(err("no empty, '.' or '..' segments, and no trailing '/'"));
        }
        if value.ends_with(".chom-part") {
            return Err(err("names ending in .chom-part are CHOM's half-made uploads"));
        }
        Ok(RemotePath(value.to_owned()))
    }
}

string_type!(RemotePath);

/// A git repository to deploy from: https://, ssh:// or scp-like
/// `user@host:path`; never an option (`--upload-pack=...`) nor a transport
/// that runs commands (`ext::`, `file://` on the server is refused too).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct GitUrl(String);

impl GitUrl {
    pub const FIELD: &'static str = "git URL";

    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        let err = |rule: &str| ValidationError::new(Self::FIELD, value, rule);
        if value.is_empty() || value.len() > 2048 || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(err("use a URL of at most 2048 characters without spaces"));
        }
        if value.starts_with('-') {
            return Err(err("a git URL can not start with '-' (it would be read as an option)"));
        }
        if value.contains("::") {
            return Err(err("transport helpers such as ext:: are refused: they run commands"));
        }
        if let Some((scheme, rest)) = value.split_once("://") {
            let authority = rest.split('/').next().unwrap_or("");
            if let Some((userinfo, _host)) = authority.rsplit_once('@') {
                // A token is as often the user part (https://TOKEN@host) as
                // the password; only ssh:// names a plain user.
                if scheme != "ssh" || userinfo.contains(':') {
                    let shown = value.replacen(userinfo, "***", 1);
                    return Err(ValidationError::new(
                        Self::FIELD,
                        &shown,
                        "credentials in a git URL would be kept in the cache and the audit log and shown in the \
                         server's process list: use an ssh:// URL with a deploy key, or a credential helper on \
                         the server",
                    ));
                }
            }
        }
        let scp_like = !value.contains("://") && value.split_once(':').is_some_and(|(host, _)| host.contains('@'));
        let allowed = ["https://", "ssh://", "git://"].iter().any(|p| value.starts_with(p)) || scp_like;
        if !allowed {
            return Err(err("use an https://, ssh://, git:// or user@host:path URL"));
        }
        Ok(GitUrl(value.to_owned()))
    }
}

string_type!(GitUrl);

/// A branch, tag or commit to deploy: git's ref alphabet, never an option
/// nor a path out of refs/ (`..`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct GitRef(String);

impl GitRef {
    pub const FIELD: &'static str = "git ref";

    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        let err = |rule: &str| ValidationError::new(Self::FIELD, value, rule);
        if value.is_empty() || value.len() > 255 {
            return Err(err("use a branch, tag or commit of 1-255 characters"));
        }
        if value.starts_with('-') || value.starts_with('/') || value.contains("..") || value.ends_with(".lock") {
            return Err(err("a ref can not start with '-' or '/', contain '..' or end in .lock"));
        }
        if !value.bytes().all(|b| b.is_ascii_alphanumeric() || b"._/-".contains(&b)) {
            return Err(err("only letters, digits, '.', '_', '/' and '-'"));
        }
        Ok(GitRef(value.to_owned()))
    }
}

string_type!(GitRef);

/// An https:// URL the server fetches (a download, an ACME directory):
/// no spaces or control characters, so it stays one shell word even
/// before quoting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct HttpsUrl(String);

impl HttpsUrl {
    pub fn parse_as(field: &'static str, value: &str) -> Result<Self, ValidationError> {
        let ok = value.starts_with("https://")
            && value.len() > "https://".len()
            && value.len() <= 2048
            && !value.chars().any(|c| c.is_whitespace() || c.is_control());
        if !ok {
            return Err(ValidationError::new(field, value, "use an https:// URL without spaces"));
        }
        Ok(HttpsUrl(value.to_owned()))
    }

    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        Self::parse_as("URL", value)
    }
}

string_type!(HttpsUrl);

/// A PHP version as Debian names its packages: `8.2`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhpVersion(String);

impl PhpVersion {
    pub const FIELD: &'static str = "PHP version";
    pub const DEFAULT: &'static str = "8.2";

    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        let ok = value.split_once('.').is_some_and(|(major, minor)| {
            (1..=2).contains(&major.len())
                && (1..=2).contains(&minor.len())
                && major.bytes().chain(minor.bytes()).all(|b| b.is_ascii_digit())
        });
        if !ok {
            return Err(ValidationError::new(Self::FIELD, value, "use MAJOR.MINOR, such as 8.2"));
        }
        Ok(PhpVersion(value.to_owned()))
    }
}

string_type!(PhpVersion);

/// The URL path a health check requests: starts with '/', printable ASCII
/// without spaces, quotes or shell characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct HealthPath(String);

impl HealthPath {
    pub const FIELD: &'static str = "health check path";

    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        let safe = |b: u8| b.is_ascii_alphanumeric() || b"/._-~%?=&+,:@".contains(&b);
        if !value.starts_with('/') || value.len() > 1024 || !value.bytes().all(safe) {
            return Err(ValidationError::new(
                Self::FIELD,
                value,
                "use a path starting with '/' (letters, digits and / . _ - ~ % ? = & + , : @)",
            ));
        }
        Ok(HealthPath(value.to_owned()))
    }
}

string_type!(HealthPath);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_from_the_issue_are_refused() {
        let long_label = format!("{}.com", "a".repeat(64));
        for bad in [
            "a.com;rm -rf /",
            "$(id).com",
            "../x",
            &long_label,
            "-x.com",
            "x-.com",
            "a..com",
            "a.com..",
            ".",
            "com",
            "com.",
            "a.com/x",
            "a com",
            "`id`.com",
            "a.com\n",
            "_dmarc.example.com",
            "",
        ] {
            let err = DomainName::parse(bad).unwrap_err();
            assert_eq!(err.field, "domain", "{bad:?}");
        }
    }

    #[test]
    fn domains_are_normalized() {
        assert_eq!(DomainName::parse("Example.COM").unwrap().as_str(), "example.com");
        assert_eq!(DomainName::parse("bücher.example").unwrap().as_str(), "xn--bcher-kva.example");
        assert_eq!(DomainName::parse("site1.test").unwrap().as_str(), "site1.test");
        assert_eq!(DomainName::parse("Example.com.").unwrap().as_str(), "example.com", "the absolute form");
        let max_label = format!("{}.example", "a".repeat(63));
        assert!(DomainName::parse(&max_label).is_ok());
    }

    #[test]
    fn site_paths_stay_inside_the_site() {
        for bad in ["../x", "a/../../etc", "/etc/passwd", "a//b", "./a", "-rf", "a b", "a;b", "hooks/$(id)", ""] {
            assert!(SitePath::parse(bad).is_err(), "{bad:?}");
        }
        for good in [".env", "storage", "wp-content/uploads", "hooks/build.sh"] {
            assert!(SitePath::parse(good).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn git_urls_that_run_commands_are_refused() {
        for bad in [
            "--upload-pack=touch /tmp/pwned",
            "ext::sh -c touch% /tmp/pwned",
            "file:///etc",
            "/srv/repo",
            "https://x.com/a b",
            "-oProxyCommand=x",
            "",
        ] {
            assert!(GitUrl::parse(bad).is_err(), "{bad:?}");
        }
        for secret in [
            "https://user:hunter2@git.example.com/a.git",
            "https://ghp_hunter2@github.com/a.git",
            "ssh://git:hunter2@h/a",
        ] {
            let e = GitUrl::parse(secret).unwrap_err().to_string();
            assert!(e.contains("credentials") && !e.contains("hunter2"), "{e}");
        }
        for good in [
            "https://git.example.com/acme/site.git",
            "ssh://git@git.example.com/acme/site.git",
            "git@github.com:acme/site.git",
        ] {
            assert!(GitUrl::parse(good).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn refs_versions_and_health_paths() {
        for bad in ["--upload-pack=x", "-b", "a..b", "/etc", "x y", "a;b", "$(id)", "", "x.lock"] {
            assert!(GitRef::parse(bad).is_err(), "{bad:?}");
        }
        for good in ["main", "v1.2.3", "release/2026-11", "3f2a9c1"] {
            assert!(GitRef::parse(good).is_ok(), "{good:?}");
        }
        for bad in ["8", "8.2;id", "eight.two", "8.2.1", ""] {
            assert!(PhpVersion::parse(bad).is_err(), "{bad:?}");
        }
        assert!(PhpVersion::parse("8.2").is_ok());
        for bad in ["health", "/x y", "/$(id)", "/a'b", "/a\"b", "/`id`"] {
            assert!(HealthPath::parse(bad).is_err(), "{bad:?}");
        }
        assert!(HealthPath::parse("/health?full=1").is_ok());
    }
}
