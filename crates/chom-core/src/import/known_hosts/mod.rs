//! `known_hosts` files, read as OpenSSH reads them.
//!
//! The format is sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"; where the manual is
//! silent, OpenSSH's hostfile.c and match.c decide, quirks included, so that
//! a line matches here exactly when it matches for `ssh` and `ssh-keygen -F`.
//! The whole file is read up front: a bad line is a [`LineProblem`] even when
//! OpenSSH, which only parses the lines of the host it looks up, would never
//! notice it.
//!
//! russh's own known_hosts check skips marker lines, so `@revoked` is
//! enforced here: [`Lookup`] never offers a revoked key for pinning.

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use russh::keys::{Algorithm, PublicKey};
use serde::Serialize;
use sha1::Sha1;

use crate::keys::fingerprint_of;

/// The only hashed-name format there is (`HASH_MAGIC` in hostfile.h).
const HASH_MAGIC: &str = "|1|";
/// Salts of hashed names are HMAC-SHA1 keys of the digest's length.
const SALT_LEN: usize = 20;
/// hostfile.c refuses longer encoded salts before decoding them.
const MAX_ENCODED_SALT: usize = 1024;
/// match.c copies each sub-pattern into a 1024-byte buffer and treats a list
/// holding a longer one as matching nothing.
const MAX_SUBPATTERN: usize = 1023;
/// `ssh` writes port 22 (and the "no port" 0) plainly, never as `[host]:22`.
const DEFAULT_PORT: u16 = 22;

/// What is wrong with one line; the line is ignored, the others still count.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    #[error(
        "unknown marker {marker:?}: a line takes at most one marker, @revoked or @cert-authority, \
         followed by a space; fix the marker or delete the line"
    )]
    BadMarker { marker: String },
    #[error(
        "no key after the host names: a line is `[marker] hosts key-type base64-key [comment]`; \
         complete the line or delete it"
    )]
    MissingKey,
    #[error("malformed hashed host name ({reason}); hash the names again with `ssh-keygen -H`, or delete the line")]
    BadHash { reason: &'static str },
    #[error(
        "key type {algorithm:?} is not a host key type OpenSSH reads (ssh-ed25519, \
         ecdsa-sha2-nistp256/384/521, ssh-rsa, ...); replace the key (`ssh-keyscan HOST`) or delete the line"
    )]
    UnsupportedKeyType { algorithm: String },
    #[error("the {algorithm} key is unreadable ({detail}); copy it again (`ssh-keyscan HOST`) or delete the line")]
    BadKey { algorithm: String, detail: String },
}

/// A line that was not read, by its 1-based number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineProblem {
    pub line: usize,
    pub error: LineError,
}

impl fmt::Display for LineProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.error)
    }
}

/// A host key named by one line of the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KnownKey {
    /// 1-based line number, as `ssh-keygen -F` prints it.
    pub line: usize,
    /// "ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa"...
    pub algorithm: String,
    /// "ssh-ed25519 AAAA...", without comment: the form `HostKeyOffer` and
    /// the pinned host keys use, so the strings compare directly.
    pub public_key: String,
    /// "SHA256:...", as `crate::keys::fingerprint_of` and `ssh-keygen -l` give it.
    pub fingerprint: String,
}

/// What the file says about one host and port. Each list holds a key once
/// (at its first line), in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Lookup {
    /// Keys the host may present. Never a key that is also revoked.
    pub keys: Vec<KnownKey>,
    /// `@revoked` keys: refuse them for this host, whatever other lines say.
    pub revoked: Vec<KnownKey>,
    /// `@cert-authority` keys. CHOM does not accept host certificates yet,
    /// so these are reported and never pinned.
    pub cert_authorities: Vec<KnownKey>,
}

impl Lookup {
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty() && self.revoked.is_empty() && self.cert_authorities.is_empty()
    }
}

/// A parsed `known_hosts` file.
#[derive(Debug, Clone, Default)]
pub struct KnownHosts {
    entries: Vec<Entry>,
    problems: Vec<LineProblem>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    Pin,
    Revoked,
    CertAuthority,
}

#[derive(Debug, Clone)]
enum Names {
    /// Comma-separated names and patterns, as written.
    Patterns(String),
    /// `|1|salt|hash`: the whole host field, and its decoded salt.
    Hashed { field: String, salt: Vec<u8> },
}

#[derive(Debug, Clone)]
struct Entry {
    marker: Marker,
    names: Names,
    key: KnownKey,
}

/// Reads a whole file. It never fails as a whole: lines that cannot be read
/// are listed in [`KnownHosts::problems`] and left out.
pub fn parse(text: &str) -> KnownHosts {
    let mut known = KnownHosts::default();
    // hostfile.c keeps a '\r' before the '\n' and its base64 decoder skips
    // it; dropping it here reads CRLF files the same way.
    for (index, raw) in text.split('\n').enumerate() {
        let line = index + 1;
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        match parse_line(raw) {
            Ok(None) => {}
            Ok(Some((marker, names, public))) => {
                let key = KnownKey {
                    line,
                    algorithm: public.algorithm().as_str().to_owned(),
                    public_key: public.to_openssh().unwrap_or_default().trim().to_owned(),
                    fingerprint: fingerprint_of(&public),
                };
                known.entries.push(Entry { marker, names, key });
            }
            Err(error) => known.problems.push(LineProblem { line, error }),
        }
    }
    known
}

impl KnownHosts {
    /// The lines that were not read, in file order.
    pub fn problems(&self) -> &[LineProblem] {
        &self.problems
    }

    /// Lines read, markers included.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The keys for `host` (a name or address, without brackets) on `port`,
    /// looked up as `ssh` does: the name lowercased, written `[host]:port`
    /// unless the port is 22.
    pub fn lookup(&self, host: &str, port: u16) -> Lookup {
        let name = lookup_name(host, port);
        let matched: Vec<&Entry> = self.entries.iter().filter(|e| e.names.matches(&name)).collect();
        // As check_key_not_revoked in hostfile.c: a key revoked by any line
        // for this host is refused, whatever the order of the lines.
        let is_revoked =
            |key: &KnownKey| matched.iter().any(|e| e.marker == Marker::Revoked && e.key.public_key == key.public_key);
        let mut lookup = Lookup::default();
        for entry in &matched {
            let list = match entry.marker {
                Marker::Revoked => &mut lookup.revoked,
                _ if is_revoked(&entry.key) => continue,
                Marker::Pin => &mut lookup.keys,
                Marker::CertAuthority => &mut lookup.cert_authorities,
            };
            if !list.iter().any(|k| k.public_key == entry.key.public_key) {
                list.push(entry.key.clone());
            }
        }
        lookup
    }

    /// The concrete (host, port) pairs that lines without a marker name in
    /// clear text, lowercased, each once, in file order: what an import can
    /// offer as servers. Hashed lines name none; patterns and negations are
    /// not names. A name counts only where its own line matches it, so
    /// `[host]:22` (which `ssh` never looks up) and `a,!a` name nothing.
    pub fn named_hosts(&self) -> Vec<(String, u16)> {
        let mut named: Vec<(String, u16)> = Vec::new();
        for entry in self.entries.iter().filter(|e| e.marker == Marker::Pin) {
            let Names::Patterns(list) = &entry.names else { continue };
            for name in list.split(',') {
                if name.starts_with('!') || name.contains(['*', '?']) {
                    continue;
                }
                let Some((host, port)) = split_host_port(&name.to_ascii_lowercase()) else { continue };
                if !matches_list(&lookup_name(&host, port), list) {
                    continue;
                }
                if !named.iter().any(|(h, p)| *h == host && *p == port) {
                    named.push((host, port));
                }
            }
        }
        named
    }
}

impl Names {
    /// `name` is already in lookup form (lowercased, bracketed port).
    fn matches(&self, name: &str) -> bool {
        match self {
            Names::Patterns(list) => matches_list(name, list),
            // hostfile.c compares the whole field, as text, with a hash made
            // afresh: a field with more after the hash matches nothing.
            Names::Hashed { field, salt } => *field == hash_name(salt, name),
        }
    }
}

/// The name OpenSSH looks a host up by (put_host_port in misc.c, lowercased
/// as ssh.c lowercases the host it connects to).
fn lookup_name(host: &str, port: u16) -> String {
    let host = host.to_ascii_lowercase();
    if port == DEFAULT_PORT || port == 0 {
        host
    } else {
        format!("[{host}]:{port}")
    }
}

/// "[host]:2222" -> ("host", 2222); "host" -> ("host", 22).
fn split_host_port(name: &str) -> Option<(String, u16)> {
    if let Some(inner) = name.strip_prefix('[') {
        let (host, port) = inner.split_once("]:")?;
        let port = port.parse().ok()?;
        return (!host.is_empty()).then(|| (host.to_owned(), port));
    }
    (!name.is_empty()).then(|| (name.to_owned(), DEFAULT_PORT))
}

/// `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`, as host_hash in hostfile.c.
fn hash_name(salt: &[u8], name: &str) -> String {
    // HMAC takes a key of any length, so this never fails.
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(salt) else { return String::new() };
    mac.update(name.as_bytes());
    let hash = mac.finalize().into_bytes();
    format!("{HASH_MAGIC}{}|{}", STANDARD.encode(salt), STANDARD.encode(hash))
}

type ParsedLine = (Marker, Names, PublicKey);

/// One line, as hostkeys_foreach in hostfile.c reads it; `None` for blank
/// lines and comments.
fn parse_line(raw: &str) -> Result<Option<ParsedLine>, LineError> {
    let rest = raw.trim_start_matches([' ', '\t']);
    if rest.is_empty() || rest.starts_with('#') {
        return Ok(None);
    }
    let (marker, rest) = take_marker(rest)?;
    let (hosts, rest) = split_field(rest);
    if hosts.is_empty() {
        return Err(LineError::MissingKey);
    }
    let names = if hosts.starts_with('|') { parse_hashed(hosts)? } else { Names::Patterns(hosts.to_owned()) };
    if rest.is_empty() || rest.starts_with('#') {
        return Err(LineError::MissingKey);
    }
    let (algorithm, rest) = split_field(rest);
    let (blob, _comment) = split_field(rest);
    Ok(Some((marker, names, read_key(algorithm, blob)?)))
}

/// The field up to the next space or tab, and what follows the blanks after it.
fn split_field(text: &str) -> (&str, &str) {
    let end = text.find([' ', '\t']).unwrap_or(text.len());
    let (field, rest) = text.split_at(end);
    (field, rest.trim_start_matches([' ', '\t']))
}

/// check_markers in hostfile.c.
fn take_marker(mut rest: &str) -> Result<(Marker, &str), LineError> {
    let mut marker = Marker::Pin;
    while rest.starts_with('@') {
        // hostfile.c ends a marker at the first space of the line, or at its
        // first tab when it has no space: "@revoked<TAB>host key comment with
        // spaces" is refused there, so it is refused here too.
        let end = rest.find(' ').or_else(|| rest.find('\t'));
        let token = end.map_or(rest, |end| &rest[..end]);
        let found = match token {
            "@revoked" => Some(Marker::Revoked),
            "@cert-authority" => Some(Marker::CertAuthority),
            _ => None,
        };
        match (marker, found, end) {
            (Marker::Pin, Some(found), Some(end)) => {
                marker = found;
                rest = rest[end..].trim_start_matches([' ', '\t']);
            }
            _ => return Err(LineError::BadMarker { marker: token.to_owned() }),
        }
    }
    Ok((marker, rest))
}

/// extract_salt in hostfile.c: the salt must decode to 20 bytes; the hash
/// part is only ever compared as text.
fn parse_hashed(field: &str) -> Result<Names, LineError> {
    let body = field.strip_prefix(HASH_MAGIC).ok_or(LineError::BadHash { reason: "it does not start with |1|" })?;
    let (encoded, _hash) = body.split_once('|').ok_or(LineError::BadHash { reason: "no '|' after the salt" })?;
    if encoded.is_empty() || encoded.len() > MAX_ENCODED_SALT {
        return Err(LineError::BadHash { reason: "the salt is empty or too long" });
    }
    let salt = STANDARD.decode(encoded).map_err(|_| LineError::BadHash { reason: "the salt is not base64" })?;
    if salt.len() != SALT_LEN {
        return Err(LineError::BadHash { reason: "the salt is not 20 bytes" });
    }
    Ok(Names::Hashed { field: field.to_owned(), salt })
}

/// sshkey_read in OpenSSH: the type named on the line must be the blob's.
fn read_key(algorithm: &str, blob: &str) -> Result<PublicKey, LineError> {
    let unsupported = || LineError::UnsupportedKeyType { algorithm: algorithm.to_owned() };
    // Certificates, signature-only names (rsa-sha2-256) and unknown names
    // are not host keys a plain line can pin.
    match Algorithm::new(algorithm).map_err(|_| unsupported())? {
        Algorithm::Other(_) | Algorithm::Rsa { hash: Some(_) } => return Err(unsupported()),
        _ => {}
    }
    let bad = |detail: String| LineError::BadKey { algorithm: algorithm.to_owned(), detail };
    if blob.is_empty() || blob.starts_with('#') {
        return Err(bad("no base64 key after the key type".into()));
    }
    let bytes = STANDARD.decode(blob).map_err(|e| bad(format!("not base64: {e}")))?;
    let public = PublicKey::from_bytes(&bytes).map_err(|e| bad(format!("not an SSH public key: {e}")))?;
    let inside = public.algorithm();
    if public.key_data().is_certificate() || inside.as_str() != algorithm {
        return Err(bad(format!("the key inside is {}", inside.as_str())));
    }
    Ok(public)
}

/// match_pattern_list in match.c, for a lowercased host name: true when a
/// sub-pattern matches and no negated one (`!pattern`) does, wherever it is.
fn matches_list(name: &str, list: &str) -> bool {
    let (name, list) = (name.as_bytes(), list.as_bytes());
    let mut positive = false;
    let mut i = 0;
    while i < list.len() {
        let negated = list[i] == b'!';
        if negated {
            i += 1;
        }
        let start = i;
        while i < list.len() && list[i] != b',' {
            i += 1;
        }
        let pattern = list[start..i].to_ascii_lowercase();
        if pattern.len() >= MAX_SUBPATTERN {
            return false;
        }
        i += 1; // the comma, or past the end
        if glob(name, &pattern) {
            if negated {
                return false;
            }
            positive = true;
        }
    }
    positive
}

/// match_pattern in match.c: `*` is any run of bytes, `?` exactly one byte,
/// everything else literal. Backtracks to the last `*` only, which gives
/// the same answers as match.c's recursion without its worst case.
fn glob(text: &[u8], pattern: &[u8]) -> bool {
    let (mut t, mut p) = (0, 0);
    let mut last_star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                last_star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == b'?' || c == text[t] => {
                t += 1;
                p += 1;
            }
            _ => match last_star {
                Some((star, from)) => {
                    last_star = Some((star, from + 1));
                    p = star + 1;
                    t = from + 1;
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests;
