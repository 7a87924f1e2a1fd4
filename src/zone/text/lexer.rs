//! Splits a zone file into entries (RFC 1035 §5.1): one per line, or per
//! parenthesised group of lines, with comments dropped. Tokens borrow the
//! file's bytes and keep their escapes; whoever interprets a token knows
//! whether it is a name (escapes stay meaningful) or a string.

/// One token of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token<'a> {
    /// The raw octets, escapes included, quotes excluded.
    pub text: &'a [u8],
    /// The token was a "quoted string".
    pub quoted: bool,
    /// No blank separated this token from the one before (as in the SVCB
    /// form `alpn="h2,h3"`).
    pub glued: bool,
}

/// Where an entry came from, and whether its owner was left blank.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    /// Line on which the entry starts (1-based).
    pub line: usize,
    /// The entry started with a blank: the owner is the previous one.
    pub blank_owner: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexError {
    pub line: usize,
    pub message: &'static str,
}

pub struct Lexer<'a> {
    text: &'a [u8],
    pos: usize,
    line: usize,
}

impl<'a> Lexer<'a> {
    pub fn new(text: &'a [u8]) -> Self {
        Lexer {
            text,
            pos: 0,
            line: 1,
        }
    }

    /// Reads the next non-empty entry into `tokens` (cleared first).
    pub fn next_entry(&mut self, tokens: &mut Vec<Token<'a>>) -> Result<Option<Entry>, LexError> {
        tokens.clear();
        let mut depth = 0usize;
        let mut entry: Option<Entry> = None;
        let mut at_line_start = true;
        let mut glued = false;
        loop {
            let Some(&c) = self.text.get(self.pos) else {
                if depth > 0 {
                    return Err(self.err("unbalanced parentheses: '(' is never closed"));
                }
                return Ok(entry.filter(|_| !tokens.is_empty()));
            };
            match c {
                b'\n' => {
                    self.pos += 1;
                    self.line += 1;
                    glued = false;
                    if depth == 0 {
                        if !tokens.is_empty() {
                            return Ok(entry);
                        }
                        entry = None;
                        at_line_start = true;
                    }
                }
                b' ' | b'\t' | b'\r' => {
                    if at_line_start && depth == 0 && tokens.is_empty() {
                        entry.get_or_insert(Entry {
                            line: self.line,
                            blank_owner: true,
                        });
                    }
                    at_line_start = false;
                    glued = false;
                    self.pos += 1;
                }
                b';' => {
                    while self.text.get(self.pos).is_some_and(|&b| b != b'\n') {
                        self.pos += 1;
                    }
                }
                b'(' => {
                    self.start_entry(&mut entry);
                    at_line_start = false;
                    depth += 1;
                    glued = false;
                    self.pos += 1;
                }
                b')' => {
                    if depth == 0 {
                        return Err(self.err("unbalanced parentheses: ')' without '('"));
                    }
                    depth -= 1;
                    glued = false;
                    self.pos += 1;
                }
                b'"' => {
                    self.start_entry(&mut entry);
                    at_line_start = false;
                    let start = self.pos + 1;
                    let end = self.scan(start, |b| b == b'"', true)?;
                    if self.text.get(end) != Some(&b'"') {
                        return Err(self.err("quoted string is never closed"));
                    }
                    tokens.push(Token {
                        text: &self.text[start..end],
                        quoted: true,
                        glued,
                    });
                    self.pos = end + 1;
                    glued = true;
                }
                _ => {
                    self.start_entry(&mut entry);
                    at_line_start = false;
                    let start = self.pos;
                    let end = self.scan(start, |b| b" \t\r\n;()\"".contains(&b), false)?;
                    tokens.push(Token {
                        text: &self.text[start..end],
                        quoted: false,
                        glued,
                    });
                    self.pos = end;
                    glued = true;
                }
            }
        }
    }

    fn start_entry(&self, entry: &mut Option<Entry>) {
        entry.get_or_insert(Entry {
            line: self.line,
            blank_owner: false,
        });
    }

    /// Finds the end of a token starting at `start`: the first octet for
    /// which `stop` holds, skipping escaped octets.
    fn scan(
        &mut self,
        start: usize,
        stop: impl Fn(u8) -> bool,
        quoted: bool,
    ) -> Result<usize, LexError> {
        let mut p = start;
        while let Some(&b) = self.text.get(p) {
            if b == b'\\' {
                if self.text.get(p + 1) == Some(&b'\n') {
                    self.line += 1;
                }
                p += 2;
                continue;
            }
            if b == b'\n' && quoted {
                return Err(self.err("quoted string is never closed"));
            }
            if stop(b) {
                return Ok(p);
            }
            p += 1;
        }
        Ok(p.min(self.text.len()))
    }

    fn err(&self, message: &'static str) -> LexError {
        LexError {
            line: self.line,
            message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(text: &str) -> Result<Vec<(usize, bool, Vec<String>)>, LexError> {
        let mut lx = Lexer::new(text.as_bytes());
        let mut toks = Vec::new();
        let mut out = Vec::new();
        while let Some(e) = lx.next_entry(&mut toks)? {
            let t = toks
                .iter()
                .map(|t| {
                    let s = String::from_utf8_lossy(t.text).into_owned();
                    if t.quoted { format!("\"{s}\"") } else { s }
                })
                .collect();
            out.push((e.line, e.blank_owner, t));
        }
        Ok(out)
    }

    #[test]
    fn splits_lines_comments_and_parentheses() {
        let e = entries(
            "; header\n\n@ IN SOA ns hm ( 1 ; serial\n  2 3\n 4 5 )\n  A 1.2.3.4 ; c\nwww A 5.6.7.8",
        )
        .unwrap();
        assert_eq!(e.len(), 3);
        assert_eq!(e[0].0, 3);
        assert!(!e[0].1);
        assert_eq!(
            e[0].2,
            ["@", "IN", "SOA", "ns", "hm", "1", "2", "3", "4", "5"]
        );
        assert_eq!((e[1].0, e[1].1), (6, true));
        assert_eq!(e[1].2, ["A", "1.2.3.4"]);
        assert_eq!(e[2].2, ["www", "A", "5.6.7.8"]);
    }

    #[test]
    fn quoted_strings_and_escapes() {
        let e = entries("t TXT \"a b;c\" x\\ y \"q\\\"\" \\;z\n").unwrap();
        assert_eq!(
            e[0].2,
            ["t", "TXT", "\"a b;c\"", "x\\ y", "\"q\\\"\"", "\\;z"]
        );
    }

    #[test]
    fn glued_tokens() {
        let mut lx = Lexer::new(b"h HTTPS 1 . alpn=\"h2,h3\" port=443");
        let mut toks = Vec::new();
        lx.next_entry(&mut toks).unwrap();
        assert_eq!(toks[4].text, b"alpn=");
        assert!(toks[5].quoted && toks[5].glued);
        assert!(!toks[6].glued);
    }

    #[test]
    fn errors_carry_line_numbers() {
        assert_eq!(entries("a A 1\nb ( A\n").unwrap_err().line, 3);
        assert_eq!(entries("a A 1\n b )\n").unwrap_err().line, 2);
        assert_eq!(
            entries("a TXT \"open\nb A 1").unwrap_err().message,
            "quoted string is never closed"
        );
    }
}
