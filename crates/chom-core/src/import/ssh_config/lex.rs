//! Splitting a config line the way OpenSSH 9.x does: the keyword with
//! `strdelim` (whitespace, one `=`, double quotes), the arguments with
//! `argv_split` (whitespace, both quote kinds, backslash escapes, `#` at the
//! start of an argument ends the line), `Match` criteria with `strdelim`
//! again. Ports of misc.c, kept byte for byte so odd lines split as ssh
//! splits them.

const WHITESPACE: &[u8] = b" \t\r\n";

/// A line after the keyword was split off.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Lexed {
    /// Blank, a comment, or a keyword ssh skips silently (an unclosed quote
    /// in the keyword itself).
    Blank,
    /// `rest` is the raw remainder after the keyword, its separator and
    /// leading whitespace: what readconf.c calls `str`.
    Directive { keyword: String, rest: String },
    /// A keyword with nothing after it: OpenSSH refuses the file.
    NoArgument { keyword: String },
}

pub(crate) fn lex_line(raw: &str) -> Lexed {
    let mut bytes = raw.as_bytes().to_vec();
    // readconf.c strips trailing whitespace (and a form feed) but never the
    // first byte; CRLF files lose their \r here.
    while bytes.len() > 1 && matches!(bytes[bytes.len() - 1], b' ' | b'\t' | b'\r' | b'\n' | 0x0c) {
        bytes.pop();
    }
    let mut cur = Delim::new(bytes);
    let mut keyword = match cur.next(true) {
        Some(k) => k,
        None => return Lexed::Blank,
    };
    if keyword.is_empty() {
        keyword = match cur.next(true) {
            Some(k) => k,
            None => return Lexed::Blank,
        };
    }
    if keyword.is_empty() || keyword.starts_with('#') {
        return Lexed::Blank;
    }
    match cur.rest() {
        Some(rest) => {
            let rest = rest.trim_start_matches([' ', '\t', '\r', '\n']).to_string();
            if rest.is_empty() {
                Lexed::NoArgument { keyword }
            } else {
                Lexed::Directive { keyword, rest }
            }
        }
        None => Lexed::NoArgument { keyword },
    }
}

/// misc.c `strdelim`: a cursor over a line that hands out one token at a
/// time, removing the quotes it splits on, as the C code does in place.
pub(crate) struct Delim {
    buf: Vec<u8>,
    pos: Option<usize>,
}

impl Delim {
    pub(crate) fn new(buf: Vec<u8>) -> Self {
        Delim { buf, pos: Some(0) }
    }

    pub(crate) fn over(s: &str) -> Self {
        Delim::new(s.as_bytes().to_vec())
    }

    /// What is left, as readconf.c's `str` after the last token.
    pub(crate) fn rest(&self) -> Option<String> {
        self.pos.map(|p| String::from_utf8_lossy(&self.buf[p.min(self.buf.len())..]).into_owned())
    }

    /// The next token; `None` once the line is used up or a quote is left
    /// open. Like the C code it yields one empty token at the very end.
    pub(crate) fn next(&mut self, split_equals: bool) -> Option<String> {
        let old = self.pos?;
        let is_delim = |b: u8| WHITESPACE.contains(&b) || b == b'"' || (split_equals && b == b'=');
        let Some(i) = self.buf[old..].iter().position(|&b| is_delim(b)).map(|i| i + old) else {
            self.pos = None;
            return Some(self.text(old, self.buf.len()));
        };
        if self.buf[i] == b'"' {
            self.buf.remove(i);
            let Some(close) = self.buf[i..].iter().position(|&b| b == b'"').map(|c| c + i) else {
                self.pos = None;
                return None;
            };
            let token = self.text(old, close);
            self.pos = Some(close + 1 + self.span_ws(close + 1));
            return Some(token);
        }
        let equals_seen = split_equals && self.buf[i] == b'=';
        let token = self.text(old, i);
        let mut p = i + 1 + self.span_ws(i + 1);
        if split_equals && !equals_seen && self.buf.get(p) == Some(&b'=') {
            p = p + 1 + self.span_ws(p + 1);
        }
        self.pos = Some(p);
        Some(token)
    }

    fn span_ws(&self, from: usize) -> usize {
        self.buf.get(from..).map_or(0, |s| s.iter().take_while(|b| WHITESPACE.contains(b)).count())
    }

    fn text(&self, from: usize, to: usize) -> String {
        String::from_utf8_lossy(&self.buf[from..to]).into_owned()
    }
}

/// misc.c `argv_split` with `terminate_on_comment`: `Err` when a quote is
/// left open ("invalid quotes", which OpenSSH refuses).
pub(crate) fn argv_split(s: &str) -> Result<Vec<String>, ()> {
    let s = s.as_bytes();
    let mut args = Vec::new();
    let mut i = 0;
    while i < s.len() {
        if s[i] == b' ' || s[i] == b'\t' {
            i += 1;
            continue;
        }
        if s[i] == b'#' {
            break;
        }
        let mut quote = 0u8;
        let mut arg = Vec::new();
        while i < s.len() {
            let c = s[i];
            if c == b'\\' {
                let next = s.get(i + 1).copied();
                if matches!(next, Some(b'\'' | b'"' | b'\\')) || (quote == 0 && next == Some(b' ')) {
                    i += 1;
                    arg.push(s[i]);
                } else {
                    arg.push(c);
                }
            } else if quote == 0 && (c == b' ' || c == b'\t') {
                break;
            } else if quote == 0 && (c == b'"' || c == b'\'') {
                quote = c;
            } else if quote != 0 && c == quote {
                quote = 0;
            } else {
                arg.push(c);
            }
            i += 1;
        }
        if i >= s.len() && quote != 0 {
            return Err(());
        }
        args.push(String::from_utf8_lossy(&arg).into_owned());
    }
    Ok(args)
}

/// Splits a file into lines as `getline` does, numbered from 1.
pub(crate) fn lines(bytes: &[u8]) -> impl Iterator<Item = (u32, String)> + '_ {
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let empty = bytes.is_empty();
    body.split(|&b| b == b'\n')
        .filter(move |_| !empty)
        .enumerate()
        .map(|(n, l)| (u32::try_from(n + 1).unwrap_or(u32::MAX), String::from_utf8_lossy(l).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn directive(line: &str) -> (String, String) {
        match lex_line(line) {
            Lexed::Directive { keyword, rest } => (keyword, rest),
            other => panic!("{line:?}: {other:?}"),
        }
    }

    #[test]
    fn the_keyword_ends_at_whitespace_or_one_equals_sign() {
        for line in ["Port 22", "Port=22", "Port = 22", "  Port =22", "\tPort= 22\r\n"] {
            assert_eq!(directive(line), ("Port".into(), "22".into()), "{line:?}");
        }
        // Only one `=` is a separator; a second belongs to the value.
        assert_eq!(directive("Port==22").1, "=22");
    }

    #[test]
    fn blank_lines_comments_and_bare_keywords_are_told_apart() {
        for line in ["", "   ", "# comment", "   #x y", "\r"] {
            assert_eq!(lex_line(line), Lexed::Blank, "{line:?}");
        }
        assert_eq!(lex_line("Host"), Lexed::NoArgument { keyword: "Host".into() });
        assert_eq!(lex_line("Host   "), Lexed::NoArgument { keyword: "Host".into() });
    }

    #[test]
    fn arguments_split_like_argv_split_with_quotes_escapes_and_comments() {
        assert_eq!(argv_split("a \"b c\" 'd e'f # rest").unwrap(), vec!["a", "b c", "d ef"]);
        assert_eq!(argv_split("a\\ b c#d \\\"q").unwrap(), vec!["a b", "c#d", "\"q"]);
        assert_eq!(argv_split("#all comment").unwrap(), Vec::<String>::new());
        assert!(argv_split("\"open").is_err());
    }

    #[test]
    fn strdelim_removes_quotes_and_splits_on_one_equals_sign() {
        let mut d = Delim::over("host \"a b\" user=x");
        let got: Vec<_> = std::iter::from_fn(|| d.next(true)).collect();
        assert_eq!(got, vec!["host", "a b", "user", "x"]);
        // A delimiter at the very end leaves one empty token, as in C.
        let mut d = Delim::over("a ");
        assert_eq!((d.next(true), d.next(true), d.next(true)), (Some("a".into()), Some(String::new()), None));
    }

    #[test]
    fn lines_are_numbered_from_one_and_a_final_newline_adds_none() {
        let got: Vec<_> = lines(b"a\n\nb\n").collect();
        assert_eq!(got, vec![(1, "a".into()), (2, String::new()), (3, "b".into())]);
        assert_eq!(lines(b"").count(), 0);
    }
}
