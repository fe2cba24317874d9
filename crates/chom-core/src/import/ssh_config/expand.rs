//! `%` tokens, `${VAR}` and `~`, expanded as misc.c's
//! `vdollar_percent_expand` and `tilde_expand` do. Which tokens a directive
//! accepts is the caller's list, taken from ssh_config(5) TOKENS.

/// Why a value could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ExpandError {
    /// A token the directive does not accept (OpenSSH stops with "unknown key").
    Unknown(char),
    /// A token OpenSSH accepts there but CHOM cannot compute (`%C`, `%i`).
    Unsupported(char),
    /// A `%` at the very end.
    Trailing,
    /// `${NAME}` with no such variable (or an unclosed `${`).
    Env(String),
    /// `~otheruser/...`: CHOM knows only this user's home.
    TildeUser(String),
}

/// A token and its value; `None` for one OpenSSH knows but CHOM cannot fill.
pub(crate) type Keys<'a> = [(char, Option<&'a str>)];

pub(crate) fn percent(s: &str, keys: &Keys<'_>) -> Result<String, ExpandError> {
    expand(s, keys, false)
}

/// `%` tokens and `${VAR}` in one pass, as for IdentityFile and IdentityAgent.
pub(crate) fn percent_dollar(s: &str, keys: &Keys<'_>) -> Result<String, ExpandError> {
    expand(s, keys, true)
}

fn expand(s: &str, keys: &Keys<'_>, dollar: bool) -> Result<String, ExpandError> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        if dollar && rest.starts_with("${") {
            let body = &rest[2..];
            let end = body.find('}').ok_or_else(|| ExpandError::Env(body.to_string()))?;
            let name = &body[..end];
            // Values are data: the variable is read, never evaluated.
            let value = (!name.is_empty()).then(|| std::env::var(name).ok()).flatten();
            out.push_str(&value.ok_or_else(|| ExpandError::Env(name.to_string()))?);
            rest = &body[end + 1..];
            continue;
        }
        rest = &rest[c.len_utf8()..];
        if c != '%' {
            out.push(c);
            continue;
        }
        let Some(t) = rest.chars().next() else { return Err(ExpandError::Trailing) };
        rest = &rest[t.len_utf8()..];
        if t == '%' {
            out.push('%');
            continue;
        }
        match keys.iter().find(|(k, _)| *k == t) {
            Some((_, Some(v))) => out.push_str(v),
            Some((_, None)) => return Err(ExpandError::Unsupported(t)),
            None => return Err(ExpandError::Unknown(t)),
        }
    }
    Ok(out)
}

/// `~` and `~/path` become the home directory; `~user` is refused unless
/// it names the local user.
pub(crate) fn tilde(s: &str, home: &str, local_user: &str) -> Result<String, ExpandError> {
    let Some(after) = s.strip_prefix('~') else { return Ok(s.to_string()) };
    let path = match after.find('/') {
        _ if after.is_empty() => "",
        Some(0) => after.trim_start_matches('/'),
        Some(i) if &after[..i] == local_user => after[i..].trim_start_matches('/'),
        None if after == local_user => "",
        _ => return Err(ExpandError::TildeUser(after.split('/').next().unwrap_or(after).to_string())),
    };
    let slash = if home.ends_with('/') { "" } else { "/" };
    Ok(format!("{home}{slash}{path}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYS: &Keys<'static> = &[('h', Some("web1")), ('p', Some("22")), ('C', None)];

    #[test]
    fn known_tokens_expand_and_double_percent_is_literal() {
        assert_eq!(percent("%h:%p 100%%", KEYS).unwrap(), "web1:22 100%");
    }

    #[test]
    fn a_token_the_directive_does_not_accept_is_an_error() {
        assert_eq!(percent("%x", KEYS), Err(ExpandError::Unknown('x')));
        assert_eq!(percent("%C", KEYS), Err(ExpandError::Unsupported('C')));
        assert_eq!(percent("end%", KEYS), Err(ExpandError::Trailing));
    }

    #[test]
    fn environment_variables_expand_only_in_braces() {
        let home = std::env::var("HOME").unwrap();
        assert_eq!(percent_dollar("${HOME}/k", KEYS).unwrap(), format!("{home}/k"));
        assert_eq!(percent_dollar("$HOME/k", KEYS).unwrap(), "$HOME/k");
        assert_eq!(percent("${HOME}", KEYS).unwrap(), "${HOME}");
        let missing = "CHOM_SURELY_UNSET_VARIABLE_4711";
        assert_eq!(percent_dollar(&format!("${{{missing}}}"), KEYS), Err(ExpandError::Env(missing.into())));
    }

    #[test]
    fn tilde_is_the_home_directory_only_at_the_start() {
        assert_eq!(tilde("~/.ssh/id", "/home/ann", "ann").unwrap(), "/home/ann/.ssh/id");
        assert_eq!(tilde("~//x", "/home/ann/", "ann").unwrap(), "/home/ann/x");
        assert_eq!(tilde("~", "/home/ann", "ann").unwrap(), "/home/ann/");
        assert_eq!(tilde("~ann/k", "/home/ann", "ann").unwrap(), "/home/ann/k");
        assert_eq!(tilde("a/~", "/home/ann", "ann").unwrap(), "a/~");
        assert_eq!(tilde("~bob/k", "/home/ann", "ann"), Err(ExpandError::TildeUser("bob".into())));
    }
}
