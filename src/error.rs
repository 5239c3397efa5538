//! Typed errors of the library. The library never prints; the binary reports
//! these once and exits with code 2.

use std::path::PathBuf;

/// Everything that can go wrong between reading an input and writing an embedding.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be opened, read or written. The I/O error is the
    /// source, not part of this message, so a report of the chain
    /// (`{:#}`) names it once.
    #[error("{path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file's content is malformed. `line` is 1-based; 0 means "the file as a whole".
    #[error("{}", fmt_parse(path, *line, msg))]
    Parse {
        path: PathBuf,
        line: u64,
        msg: String,
    },
    /// A parameter is out of its valid range. `name` is the library's name
    /// for it (the [`crate::Embedder`] setter or the settings field, e.g.
    /// `grid_h`), so a front end can translate it into its own spelling.
    #[error("invalid {name}: {msg}")]
    Param { name: &'static str, msg: String },
    /// The input is well formed but cannot be embedded (e.g. no vertices).
    #[error("{0}")]
    Input(String),
    /// The optimisation produced non-finite numbers or diverged. `param`,
    /// when known, names the parameter whose change is likely to help.
    #[error("numerical failure at iteration {iter}: {msg}")]
    Numerical {
        iter: usize,
        msg: String,
        param: Option<&'static str>,
    },
}

fn fmt_parse(path: &std::path::Path, line: u64, msg: &str) -> String {
    if line == 0 {
        format!("{}: {}", path.display(), msg)
    } else {
        format!("{}:{}: {}", path.display(), line, msg)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
    pub(crate) fn param(name: &'static str, msg: impl Into<String>) -> Self {
        Error::Param {
            name,
            msg: msg.into(),
        }
    }
    pub(crate) fn parse(path: impl Into<PathBuf>, line: u64, msg: impl Into<String>) -> Self {
        Error::Parse {
            path: path.into(),
            line,
            msg: msg.into(),
        }
    }
}
