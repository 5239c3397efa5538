//! A line reader with a hard bound on line length, so a hostile file with a
//! multi-gigabyte "line" cannot make us allocate without limit. It takes
//! `\n`, `\r\n` and a lone `\r` (old Mac files) as line ends, skips a UTF-8
//! byte-order mark (Excel writes one), and lets a comment line hold bytes
//! that are not UTF-8 (a Latin-1 name in a header is no reason to refuse a
//! file).

use std::borrow::Cow;
use std::io::BufRead;
use std::path::Path;

use crate::error::{Error, Result};

pub(crate) const MAX_LINE: usize = 1 << 20;

/// Longest piece of a line an error message quotes.
const QUOTE_MAX: usize = 40;

pub(crate) struct Lines<'a> {
    inner: Box<dyn BufRead + 'a>,
    path: &'a Path,
    pub(crate) lineno: u64,
    buf: Vec<u8>,
    /// The previous line ended in a lone `\r`: a `\n` at the start of the
    /// next read belongs to it.
    after_cr: bool,
}

impl<'a> Lines<'a> {
    pub(crate) fn new(inner: Box<dyn BufRead + 'a>, path: &'a Path) -> Self {
        Lines {
            inner,
            path,
            lineno: 0,
            buf: Vec::with_capacity(256),
            after_cr: false,
        }
    }

    /// The next line without its terminator, or `None` at end of file.
    pub(crate) fn next_line(&mut self) -> Result<Option<(u64, Cow<'_, str>)>> {
        self.buf.clear();
        if std::mem::take(&mut self.after_cr)
            && fill(&mut self.inner, self.path, self.lineno)?.first() == Some(&b'\n')
        {
            self.inner.consume(1);
        }
        let mut saw_any = false;
        loop {
            let chunk = fill(&mut self.inner, self.path, self.lineno)?;
            if chunk.is_empty() {
                break;
            }
            saw_any = true;
            let end = chunk.iter().position(|&c| c == b'\n' || c == b'\r');
            let take = end.unwrap_or(chunk.len());
            if self.buf.len() + take > MAX_LINE {
                return Err(Error::parse(
                    self.path,
                    self.lineno + 1,
                    format!("line longer than {MAX_LINE} bytes"),
                ));
            }
            let cr = end.is_some_and(|p| chunk[p] == b'\r');
            self.buf.extend_from_slice(&chunk[..take]);
            self.inner.consume(take + usize::from(end.is_some()));
            if end.is_some() {
                self.after_cr = cr;
                break;
            }
        }
        if !saw_any {
            return Ok(None);
        }
        self.lineno += 1;
        let mut bytes = &self.buf[..];
        if self.lineno == 1 {
            bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        }
        match std::str::from_utf8(bytes) {
            Ok(s) => Ok(Some((self.lineno, Cow::Borrowed(s)))),
            Err(_) if is_comment(bytes) => Ok(Some((self.lineno, String::from_utf8_lossy(bytes)))),
            Err(_) => Err(Error::parse(
                self.path,
                self.lineno,
                "not valid text (binary data or a non-UTF-8 byte)",
            )),
        }
    }
}

/// The reader's buffer, refilled if empty; empty only at end of file.
fn fill<'r>(inner: &'r mut Box<dyn BufRead + '_>, path: &Path, lineno: u64) -> Result<&'r [u8]> {
    loop {
        match inner.fill_buf() {
            Ok(_) => break,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::parse(path, lineno + 1, format!("read error: {e}"))),
        }
    }
    // A second call hands out the buffered bytes: the borrow checker
    // cannot return the first call's borrow from inside the loop.
    Ok(inner.fill_buf().unwrap_or(&[]))
}

/// A line whose first non-blank byte starts a comment in one of our text
/// formats (`#` in points and labels, `%` in Matrix Market).
fn is_comment(bytes: &[u8]) -> bool {
    matches!(
        bytes.iter().find(|c| !c.is_ascii_whitespace()),
        Some(b'#' | b'%')
    )
}

/// `s` for an error message: whole if short, else its start and a mark, so
/// a megabyte line is never echoed.
pub(crate) fn quote(s: &str) -> Cow<'_, str> {
    if s.len() <= QUOTE_MAX {
        return Cow::Borrowed(s);
    }
    let mut end = QUOTE_MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    Cow::Owned(format!("{}... ({} bytes)", &s[..end], s.len()))
}
