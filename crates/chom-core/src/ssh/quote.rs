//! The one place that turns values into remote shell text. Every remote
//! command that carries a value is built here; nothing else assembles shell
//! strings from data.

use crate::validate::ValidationError;

/// POSIX single-quoting: safe for any byte string but NUL, which no shell
/// argument can hold (it is refused rather than silently truncated).
pub fn quote(value: &str) -> Result<String, ValidationError> {
    if value.contains('\0') {
        return Err(ValidationError::new("shell argument", value, "NUL bytes can not be passed to a remote shell"));
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    Ok(out)
}

/// A command line: a fixed program followed by quoted arguments.
#[derive(Debug, Clone)]
pub struct Cmd(String);

impl Cmd {
    /// `program` is a literal chosen by CHOM's code, never user input.
    pub fn new(program: &'static str) -> Self {
        Cmd(program.to_owned())
    }

    pub fn arg(mut self, value: &str) -> Result<Self, ValidationError> {
        self.0.push(' ');
        self.0.push_str(&quote(value)?);
        Ok(self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    /// Each hostile value must come back byte for byte from a real shell.
    #[test]
    fn a_real_shell_sees_exactly_the_value() {
        let values = [
            "a;rm -rf /",
            "$(touch /tmp/pwned)",
            "`touch /tmp/pwned`",
            "it's",
            "'",
            "''\\'",
            "a\nb",
            "-oProxyCommand=touch /tmp/pwned",
            "../../etc/passwd",
            "$HOME ${IFS} * ? [a] ~",
            "\u{e9}\u{1F600}",
            "",
        ];
        for v in values {
            let cmd = Cmd::new("printf %s").arg(v).unwrap();
            let out = Command::new("sh").arg("-c").arg(cmd.as_str()).output().unwrap();
            assert!(out.status.success(), "{v:?}");
            assert_eq!(String::from_utf8(out.stdout).unwrap(), v, "{v:?}");
        }
        assert!(!std::path::Path::new("/tmp/pwned").exists());
    }

    #[test]
    fn nul_is_refused() {
        assert!(quote("a\0b").is_err());
    }
}
