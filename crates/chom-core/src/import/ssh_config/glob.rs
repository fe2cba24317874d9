//! The glob(3) `Include` relies on: `*`, `?`, `[...]` per path component,
//! backslash escapes, no match for a leading `.` unless the pattern has
//! one, and the matches sorted bytewise as OpenBSD's glob sorts them. A
//! pattern without wildcards yields the file only if it exists, which is why
//! a missing include is silently skipped.

use std::path::PathBuf;

pub(crate) fn glob(pattern: &str) -> Vec<PathBuf> {
    let mut found = vec![if pattern.starts_with('/') { PathBuf::from("/") } else { PathBuf::new() }];
    for comp in pattern.split('/').filter(|c| !c.is_empty()) {
        let mut next = Vec::new();
        if has_magic(comp.as_bytes()) {
            for dir in &found {
                let listing = if dir.as_os_str().is_empty() { std::fs::read_dir(".") } else { std::fs::read_dir(dir) };
                // A directory that cannot be listed matches nothing, as in glob(3).
                let Ok(entries) = listing else { continue };
                let mut names: Vec<_> = entries
                    .filter_map(|e| e.ok())
                    .map(|e| e.file_name())
                    .filter(|n| matches(n.as_encoded_bytes(), comp.as_bytes()))
                    .collect();
                names.sort();
                next.extend(names.into_iter().map(|n| dir.join(n)));
            }
        } else {
            next.extend(found.iter().map(|d| d.join(unescape(comp))));
        }
        found = next;
    }
    let mut found: Vec<PathBuf> = found.into_iter().filter(|p| std::fs::symlink_metadata(p).is_ok()).collect();
    found.sort_by(|a, b| a.as_os_str().as_encoded_bytes().cmp(b.as_os_str().as_encoded_bytes()));
    found
}

fn has_magic(p: &[u8]) -> bool {
    p.iter().any(|b| matches!(b, b'*' | b'?' | b'['))
}

fn unescape(comp: &str) -> String {
    let mut out = String::with_capacity(comp.len());
    let mut chars = comp.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            out.extend(chars.next());
        } else {
            out.push(c);
        }
    }
    out
}

/// One path component against one pattern component.
pub(crate) fn matches(name: &[u8], pat: &[u8]) -> bool {
    if name.first() == Some(&b'.') && pat.first() != Some(&b'.') {
        return false;
    }
    match_from(name, pat)
}

fn match_from(name: &[u8], pat: &[u8]) -> bool {
    let Some((&p, rest)) = pat.split_first() else { return name.is_empty() };
    match p {
        b'*' => (0..=name.len()).any(|skip| match_from(&name[skip..], rest)),
        b'?' => !name.is_empty() && match_from(&name[1..], rest),
        b'[' => match (name.split_first(), class(rest)) {
            (Some((&c, tail)), Some((set, after))) => set.contains(c) && match_from(tail, after),
            // An unclosed `[` is an ordinary character.
            (Some((&c, tail)), None) => c == b'[' && match_from(tail, rest),
            (None, _) => false,
        },
        b'\\' if !rest.is_empty() => name.first() == Some(&rest[0]) && match_from(&name[1..], &rest[1..]),
        _ => name.first() == Some(&p) && match_from(&name[1..], rest),
    }
}

struct Class<'a> {
    negated: bool,
    body: &'a [u8],
}

impl Class<'_> {
    fn contains(&self, c: u8) -> bool {
        let b = self.body;
        let mut i = 0;
        let mut hit = false;
        while i < b.len() {
            if i + 2 < b.len() && b[i + 1] == b'-' {
                hit |= b[i] <= c && c <= b[i + 2];
                i += 3;
            } else {
                hit |= b[i] == c;
                i += 1;
            }
        }
        hit != self.negated
    }
}

/// The set after a `[` and the pattern after its `]`; a `]` right after
/// the `[` (or `[!`) belongs to the set.
fn class(p: &[u8]) -> Option<(Class<'_>, &[u8])> {
    let (negated, body) = match p.first() {
        Some(b'!') => (true, &p[1..]),
        _ => (false, p),
    };
    let close = body.iter().skip(1).position(|&b| b == b']')? + 1;
    Some((Class { negated, body: &body[..close] }, &body[close + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_as_in_glob() {
        assert!(matches(b"work.conf", b"*.conf"));
        assert!(!matches(b"work.conf.bak", b"*.conf"));
        assert!(matches(b"a1", b"a?"));
        assert!(matches(b"b", b"[abc]"));
        assert!(!matches(b"d", b"[a-c]"));
        assert!(matches(b"d", b"[!a-c]"));
        assert!(matches(b"*", b"\\*"));
        assert!(!matches(b"x", b"\\*"));
    }

    #[test]
    fn a_leading_dot_is_not_matched_by_a_wildcard() {
        assert!(!matches(b".hidden", b"*"));
        assert!(matches(b".hidden", b".*"));
    }

    #[test]
    fn matches_come_sorted_and_missing_files_match_nothing() {
        let dir = tempfile::tempdir().unwrap();
        for n in ["b.conf", "a.conf", "c.txt", ".x.conf"] {
            std::fs::write(dir.path().join(n), "").unwrap();
        }
        let base = dir.path().to_str().unwrap();
        let got = glob(&format!("{base}/*.conf"));
        assert_eq!(got, vec![dir.path().join("a.conf"), dir.path().join("b.conf")]);
        assert!(glob(&format!("{base}/missing")).is_empty());
        assert_eq!(glob(&format!("{base}/c.txt")), vec![dir.path().join("c.txt")]);
    }
}
