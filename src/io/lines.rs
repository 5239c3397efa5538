//! A line reader with a hard bound on line length, so a hostile file with a
//! multi-gigabyte "line" cannot make us allocate without limit.

use std::io::BufRead;
use std::path::Path;

use crate::error::{Error, Result};

pub(crate) const MAX_LINE: usize = 1 << 20;

pub(crate) struct Lines<'a> {
    inner: Box<dyn BufRead + 'a>,
    path: &'a Path,
    pub(crate) lineno: u64,
    buf: Vec<u8>,
}

impl<'a> Lines<'a> {
    pub(crate) fn new(inner: Box<dyn BufRead + 'a>, path: &'a Path) -> Self {
        Lines {
            inner,
            path,
            lineno: 0,
            buf: Vec::with_capacity(256),
        }
    }

    /// The next line without its terminator, or `None` at end of file.
    pub(crate) fn next_line(&mut self) -> Result<Option<(u64, &str)>> {
        self.buf.clear();
        let mut saw_any = false;
        loop {
            let chunk = match self.inner.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(Error::parse(
                        self.path,
                        self.lineno + 1,
                        format!("read error: {e}"),
                    ))
                }
            };
            if chunk.is_empty() {
                break;
            }
            saw_any = true;
            let (take, done) = match memchr(b'\n', chunk) {
                Some(p) => (p + 1, true),
                None => (chunk.len(), false),
            };
            if self.buf.len() + take > MAX_LINE {
                return Err(Error::parse(
                    self.path,
                    self.lineno + 1,
                    format!("line longer than {} bytes", MAX_LINE),
                ));
            }
            self.buf.extend_from_slice(&chunk[..take]);
            self.inner.consume(take);
            if done {
                break;
            }
        }
        if !saw_any {
            return Ok(None);
        }
        self.lineno += 1;
        while matches!(self.buf.last(), Some(b'\n' | b'\r')) {
            self.buf.pop();
        }
        match std::str::from_utf8(&self.buf) {
            Ok(s) => Ok(Some((self.lineno, s))),
            Err(_) => Err(Error::parse(
                self.path,
                self.lineno,
                "not valid text (binary data or a non-UTF-8 byte)",
            )),
        }
    }
}

fn memchr(b: u8, s: &[u8]) -> Option<usize> {
    s.iter().position(|&c| c == b)
}
