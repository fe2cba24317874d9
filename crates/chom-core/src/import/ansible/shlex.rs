//! Python's `shlex.split` (POSIX mode), which Ansible uses to cut INI host
//! lines into tokens and `ansible_ssh_*_args` into ssh arguments. Its rules
//! differ from a shell's in ways that change results: `#` starts a comment
//! even inside a word (`a=b#c` is `a=b`), and only `"` and `\` can be
//! escaped inside double quotes.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ShlexError {
    NoClosingQuotation,
    NoEscapedCharacter,
}

impl ShlexError {
    pub(crate) fn detail(self) -> &'static str {
        match self {
            ShlexError::NoClosingQuotation => "a quote is never closed; close it or escape it with \\",
            ShlexError::NoEscapedCharacter => "the line ends in a lone \\; remove it or escape it as \\\\",
        }
    }
}

#[derive(Clone, Copy)]
enum State {
    Space,
    Word,
    Quote(char),
    /// After a backslash; the state to go back to.
    Escape(Resume),
}

#[derive(Clone, Copy)]
enum Resume {
    Word,
    Quote(char),
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// Splits `text` as `shlex.split(text, comments=comments)` does.
pub(crate) fn split(text: &str, comments: bool) -> Result<Vec<String>, ShlexError> {
    let mut tokens = Vec::new();
    let mut token = String::new();
    // An empty quoted string ('') is a token; an empty unquoted one is not.
    let mut quoted = false;
    let mut state = State::Space;
    let mut chars = text.chars();
    loop {
        let next = chars.next();
        match state {
            State::Space => match next {
                None => break,
                Some(c) if is_space(c) => {}
                Some('#') if comments => skip_line(&mut chars),
                Some('\\') => state = State::Escape(Resume::Word),
                Some(q @ ('\'' | '"')) => state = State::Quote(q),
                Some(c) => {
                    token.push(c);
                    state = State::Word;
                }
            },
            State::Word => match next {
                None => {
                    emit(&mut tokens, &mut token, &mut quoted);
                    break;
                }
                Some(c) if is_space(c) => {
                    emit(&mut tokens, &mut token, &mut quoted);
                    state = State::Space;
                }
                Some('#') if comments => {
                    skip_line(&mut chars);
                    emit(&mut tokens, &mut token, &mut quoted);
                    state = State::Space;
                }
                Some(q @ ('\'' | '"')) => state = State::Quote(q),
                Some('\\') => state = State::Escape(Resume::Word),
                Some(c) => token.push(c),
            },
            State::Quote(q) => {
                quoted = true;
                match next {
                    None => return Err(ShlexError::NoClosingQuotation),
                    Some(c) if c == q => state = State::Word,
                    Some('\\') if q == '"' => state = State::Escape(Resume::Quote(q)),
                    Some(c) => token.push(c),
                }
            }
            State::Escape(resume) => {
                let Some(c) = next else {
                    return Err(ShlexError::NoEscapedCharacter);
                };
                if let Resume::Quote(q) = resume {
                    if c != q && c != '\\' {
                        token.push('\\');
                    }
                }
                token.push(c);
                state = match resume {
                    Resume::Word => State::Word,
                    Resume::Quote(q) => State::Quote(q),
                };
            }
        }
    }
    Ok(tokens)
}

fn skip_line(chars: &mut std::str::Chars<'_>) {
    for c in chars.by_ref() {
        if c == '\n' {
            break;
        }
    }
}

fn emit(tokens: &mut Vec<String>, token: &mut String, quoted: &mut bool) {
    if !token.is_empty() || *quoted {
        tokens.push(std::mem::take(token));
    }
    *quoted = false;
}
