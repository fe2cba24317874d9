//! Python's `ast.literal_eval`, which Ansible's INI plugin applies to every
//! value: what it accepts decides whether `ansible_port=2222` is a number
//! and `ansible_user=deploy` a string (a bare name is not a literal, so the
//! text is kept). Where Python raises, the caller keeps the text as it is.

use super::Value;

/// The value `ast.literal_eval(src)` gives, after ansible-core 2.19's
/// coercions (`...` becomes the string "..."), or `None` where Python raises
/// `ValueError` / `SyntaxError`. Complex numbers also give `None`: Ansible
/// turns them into strings, and `1j` stays `1j` that way too.
pub(crate) fn literal_eval(src: &str) -> Option<Value> {
    let src = src.trim_start_matches([' ', '\t']);
    let tokens = tokenize(src)?;
    let mut parser = Parser { tokens, pos: 0, depth: 0 };
    let node = parser.expr_list()?;
    if parser.pos != parser.tokens.len() {
        return None;
    }
    Some(match convert(node)? {
        Lit::Int(Some(n)) => Value::Int(n),
        Lit::Int(None) | Lit::Container => Value::Other(src.trim().to_owned()),
        Lit::Float(x) => Value::Float(x),
        Lit::Imag => return None,
        Lit::Str(s) => Value::String(s),
        Lit::Bool(b) => Value::Bool(b),
        Lit::None => Value::Null,
        Lit::Ellipsis => Value::String("...".to_owned()),
    })
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// `None` when the integer does not fit in an `i64` (Python's does).
    Int(Option<i64>),
    Float(f64),
    Imag,
    Str {
        text: String,
        bytes: bool,
    },
    Name(String),
    Punct(char),
    Ellipsis,
}

#[derive(Debug, Clone, PartialEq)]
enum Lit {
    Int(Option<i64>),
    Float(f64),
    Imag,
    Str(String),
    Bool(bool),
    None,
    Ellipsis,
    Container,
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn tokenize(src: &str) -> Option<Vec<Tok>> {
    let chars: Vec<char> = src.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if matches!(c, ' ' | '\t' | '\x0c') {
            i += 1;
        } else if c == '#' {
            break;
        } else if c.is_ascii_digit() || (c == '.' && next.is_some_and(|n| n.is_ascii_digit())) {
            tokens.push(number(&chars, &mut i)?);
        } else if c == '.' {
            if chars.get(i..i + 3) != Some(&['.', '.', '.'][..]) {
                return None;
            }
            tokens.push(Tok::Ellipsis);
            i += 3;
        } else if c == '\'' || c == '"' {
            tokens.push(string(&chars, &mut i, "")?);
        } else if is_ident(c) {
            let start = i;
            while i < chars.len() && is_ident(chars[i]) {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let prefix = word.to_ascii_lowercase();
            let is_prefix = matches!(prefix.as_str(), "r" | "u" | "b" | "br" | "rb" | "f" | "fr" | "rf");
            if is_prefix && matches!(chars.get(i), Some('\'' | '"')) {
                tokens.push(string(&chars, &mut i, &prefix)?);
            } else {
                tokens.push(Tok::Name(word));
            }
        } else if "()[]{},:+-".contains(c) {
            tokens.push(Tok::Punct(c));
            i += 1;
        } else {
            return None;
        }
    }
    Some(tokens)
}

/// Digits of `radix` with single `_` between them; `lead_underscore` allows
/// one before the first digit too (as after `0x`).
fn digits(chars: &[char], i: &mut usize, radix: u32, lead_underscore: bool) -> Option<String> {
    let mut out = String::new();
    loop {
        let underscore = chars.get(*i) == Some(&'_');
        let at = if underscore { *i + 1 } else { *i };
        match chars.get(at) {
            Some(c) if c.is_digit(radix) && (!underscore || lead_underscore || !out.is_empty()) => {
                out.push(*c);
                *i = at + 1;
            }
            _ if underscore => return None,
            _ => return Some(out),
        }
    }
}

fn number(chars: &[char], i: &mut usize) -> Option<Tok> {
    let radix = match (chars[*i], chars.get(*i + 1).map(char::to_ascii_lowercase)) {
        ('0', Some('x')) => Some(16),
        ('0', Some('o')) => Some(8),
        ('0', Some('b')) => Some(2),
        _ => None,
    };
    let tok = if let Some(radix) = radix {
        *i += 2;
        let ds = digits(chars, i, radix, true)?;
        if ds.is_empty() {
            return None;
        }
        Tok::Int(i64::from_str_radix(&ds, radix).ok())
    } else {
        let whole = digits(chars, i, 10, false)?;
        let mut text = whole.clone();
        let mut is_float = false;
        if chars.get(*i) == Some(&'.') {
            *i += 1;
            is_float = true;
            text.push('.');
            text.push_str(&digits(chars, i, 10, false)?);
        }
        if matches!(chars.get(*i), Some('e' | 'E')) {
            *i += 1;
            is_float = true;
            text.push('e');
            if let Some(sign @ ('+' | '-')) = chars.get(*i) {
                text.push(*sign);
                *i += 1;
            }
            let exp = digits(chars, i, 10, false)?;
            if exp.is_empty() {
                return None;
            }
            text.push_str(&exp);
        }
        if matches!(chars.get(*i), Some('j' | 'J')) {
            *i += 1;
            Tok::Imag
        } else if is_float {
            Tok::Float(text.parse().ok()?)
        } else if whole.starts_with('0') && whole.bytes().any(|b| b != b'0') {
            // Python 3 refuses `010`: leading zeros are not an octal prefix.
            return None;
        } else {
            Tok::Int(whole.parse().ok())
        }
    };
    if chars.get(*i).is_some_and(|c| is_ident(*c)) {
        return None;
    }
    Some(tok)
}

fn string(chars: &[char], i: &mut usize, prefix: &str) -> Option<Tok> {
    if prefix.contains('f') {
        // An f-string is an expression, never a literal.
        return None;
    }
    let raw = prefix.contains('r');
    let bytes = prefix.contains('b');
    let quote = chars[*i];
    let triple = chars.get(*i + 1) == Some(&quote) && chars.get(*i + 2) == Some(&quote);
    *i += if triple { 3 } else { 1 };
    let mut units: Vec<u32> = Vec::new();
    loop {
        let c = *chars.get(*i)?;
        if c == quote {
            if !triple {
                *i += 1;
                break;
            }
            if chars.get(*i + 1) == Some(&quote) && chars.get(*i + 2) == Some(&quote) {
                *i += 3;
                break;
            }
            units.push(c as u32);
            *i += 1;
        } else if c == '\\' {
            let e = *chars.get(*i + 1)?;
            *i += 2;
            if raw {
                units.extend(['\\' as u32, e as u32]);
            } else {
                escape(chars, i, e, bytes, &mut units)?;
            }
        } else {
            if bytes && !c.is_ascii() {
                return None;
            }
            units.push(c as u32);
            *i += 1;
        }
    }
    let text = if bytes {
        let raw_bytes: Vec<u8> = units.iter().map(|u| u8::try_from(*u).ok()).collect::<Option<_>>()?;
        String::from_utf8(raw_bytes).ok()?
    } else {
        units.into_iter().map(char::from_u32).collect::<Option<String>>()?
    };
    Some(Tok::Str { text, bytes })
}

fn hex_digits(chars: &[char], i: &mut usize, count: usize) -> Option<u32> {
    let s: String = chars.get(*i..*i + count)?.iter().collect();
    if !s.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    *i += count;
    u32::from_str_radix(&s, 16).ok()
}

fn escape(chars: &[char], i: &mut usize, e: char, bytes: bool, units: &mut Vec<u32>) -> Option<()> {
    let unit = match e {
        '\\' | '\'' | '"' => e as u32,
        'a' => 0x07,
        'b' => 0x08,
        'f' => 0x0c,
        'n' => 0x0a,
        'r' => 0x0d,
        't' => 0x09,
        'v' => 0x0b,
        '0'..='7' => {
            let mut value = e.to_digit(8)?;
            for _ in 0..2 {
                match chars.get(*i).and_then(|c| c.to_digit(8)) {
                    Some(d) => {
                        value = value * 8 + d;
                        *i += 1;
                    }
                    None => break,
                }
            }
            value
        }
        'x' => hex_digits(chars, i, 2)?,
        'u' if !bytes => hex_digits(chars, i, 4)?,
        'U' if !bytes => hex_digits(chars, i, 8)?,
        // \N{NAME} needs Unicode's name table; keeping the text is the
        // honest fallback for so rare a spelling.
        'N' if !bytes => return None,
        other => {
            units.push('\\' as u32);
            other as u32
        }
    };
    units.push(unit);
    Some(())
}

#[derive(Debug)]
enum Node {
    Const(Lit),
    Unary { neg: bool, operand: Box<Node> },
    Bin { left: Box<Node>, right: Box<Node> },
    Seq(Vec<Node>),
    Dict(Vec<(Node, Node)>),
}

/// Python's parser refuses more nesting than this ("too many nested
/// parentheses"); the limit also keeps this recursive parser's stack small.
const MAX_NESTING: usize = 200;

struct Parser {
    tokens: Vec<Tok>,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.pos)
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(&Tok::Punct(c)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn at_closer(&self) -> bool {
        matches!(self.peek(), None | Some(Tok::Punct(')' | ']' | '}')))
    }

    /// `a` or `a, b, ...` (a tuple, as at the top of `literal_eval("1, 2")`).
    fn expr_list(&mut self) -> Option<Node> {
        let first = self.expr()?;
        if self.peek() != Some(&Tok::Punct(',')) {
            return Some(first);
        }
        let mut items = vec![first];
        while self.eat(',') {
            if self.at_closer() {
                break;
            }
            items.push(self.expr()?);
        }
        Some(Node::Seq(items))
    }

    fn expr(&mut self) -> Option<Node> {
        let mut left = self.unary()?;
        while matches!(self.peek(), Some(Tok::Punct('+' | '-'))) {
            self.pos += 1;
            let right = self.unary()?;
            left = Node::Bin { left: Box::new(left), right: Box::new(right) };
        }
        Some(left)
    }

    fn unary(&mut self) -> Option<Node> {
        for (c, neg) in [('+', false), ('-', true)] {
            if self.eat(c) {
                // `--1` is not a literal anyway; one sign is all that counts.
                let operand = if self.eat('+') || self.eat('-') { return None } else { self.atom()? };
                return Some(Node::Unary { neg, operand: Box::new(operand) });
            }
        }
        self.atom()
    }

    /// Items up to `close`, a trailing comma allowed.
    fn items(&mut self, close: char) -> Option<Vec<Node>> {
        let mut items = Vec::new();
        while !self.eat(close) {
            items.push(self.expr()?);
            if !self.eat(',') {
                return self.eat(close).then_some(items);
            }
        }
        Some(items)
    }

    fn atom(&mut self) -> Option<Node> {
        if self.depth >= MAX_NESTING {
            return None;
        }
        self.depth += 1;
        let node = self.atom_inner();
        self.depth -= 1;
        node
    }

    fn atom_inner(&mut self) -> Option<Node> {
        let tok = self.peek()?.clone();
        self.pos += 1;
        Some(match tok {
            Tok::Int(n) => Node::Const(Lit::Int(n)),
            Tok::Float(x) => Node::Const(Lit::Float(x)),
            Tok::Imag => Node::Const(Lit::Imag),
            Tok::Ellipsis => Node::Const(Lit::Ellipsis),
            Tok::Str { mut text, bytes } => {
                // Adjacent literals concatenate, but never str with bytes.
                while let Some(Tok::Str { text: more, bytes: more_bytes }) = self.peek() {
                    if *more_bytes != bytes {
                        return None;
                    }
                    text.push_str(more);
                    self.pos += 1;
                }
                Node::Const(Lit::Str(text))
            }
            Tok::Name(name) => match name.as_str() {
                "True" => Node::Const(Lit::Bool(true)),
                "False" => Node::Const(Lit::Bool(false)),
                "None" => Node::Const(Lit::None),
                // literal_eval accepts exactly `set()` for the empty set.
                "set" if self.eat('(') && self.eat(')') => Node::Seq(Vec::new()),
                _ => return None,
            },
            Tok::Punct('(') => {
                if self.eat(')') {
                    return Some(Node::Seq(Vec::new()));
                }
                let inner = self.expr_list()?;
                if !self.eat(')') {
                    return None;
                }
                inner
            }
            Tok::Punct('[') => Node::Seq(self.items(']')?),
            Tok::Punct('{') => {
                if self.eat('}') {
                    return Some(Node::Dict(Vec::new()));
                }
                let first = self.expr()?;
                if !self.eat(':') {
                    let mut rest = vec![first];
                    if self.eat(',') {
                        rest.extend(self.items('}')?);
                    } else if !self.eat('}') {
                        return None;
                    }
                    return Some(Node::Seq(rest));
                }
                let mut pairs = vec![(first, self.expr()?)];
                while self.eat(',') {
                    if self.eat('}') {
                        return Some(Node::Dict(pairs));
                    }
                    let key = self.expr()?;
                    if !self.eat(':') {
                        return None;
                    }
                    pairs.push((key, self.expr()?));
                }
                if !self.eat('}') {
                    return None;
                }
                Node::Dict(pairs)
            }
            Tok::Punct(_) => return None,
        })
    }
}

/// `literal_eval`'s `_convert`: what the parsed expression is worth.
fn convert(node: Node) -> Option<Lit> {
    match node {
        Node::Const(lit) => Some(lit),
        Node::Seq(items) => {
            for item in items {
                convert(item)?;
            }
            Some(Lit::Container)
        }
        Node::Dict(pairs) => {
            for (k, v) in pairs {
                convert(k)?;
                convert(v)?;
            }
            Some(Lit::Container)
        }
        // Only `real ± imaginary` is a literal binary operation.
        Node::Bin { left, right } => {
            let left = signed_num(*left)?;
            let right = num(*right)?;
            (matches!(left, Lit::Int(_) | Lit::Float(_)) && right == Lit::Imag).then_some(Lit::Imag)
        }
        unary @ Node::Unary { .. } => signed_num(unary),
    }
}

fn num(node: Node) -> Option<Lit> {
    match node {
        Node::Const(lit @ (Lit::Int(_) | Lit::Float(_) | Lit::Imag)) => Some(lit),
        _ => None,
    }
}

fn signed_num(node: Node) -> Option<Lit> {
    let Node::Unary { neg, operand } = node else {
        return num(node);
    };
    let lit = num(*operand)?;
    if !neg {
        return Some(lit);
    }
    Some(match lit {
        Lit::Int(n) => Lit::Int(n.and_then(i64::checked_neg)),
        Lit::Float(x) => Lit::Float(-x),
        other => other,
    })
}
