//! Readers and writers: Matrix Market graphs, point data and bh_tsne's
//! files in; embeddings out.

pub mod bhtsne;
pub mod init;
pub mod labels;
pub(crate) mod lines;
pub mod mtx;
pub mod npz;
pub mod output;
pub mod points;

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use crate::error::{Error, Result};

/// Opens a file for buffered reading, transparently decompressing gzip
/// (detected by its magic bytes, so a misnamed file still reads).
pub fn open_maybe_gz(path: &Path) -> Result<Box<dyn BufRead>> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    maybe_gz(BufReader::with_capacity(1 << 16, file), path)
}

/// Wraps a reader in a gzip decoder when its first bytes are gzip's magic.
/// `path` only names the source in errors.
pub fn maybe_gz<'a, R: BufRead + 'a>(mut reader: R, path: &Path) -> Result<Box<dyn BufRead + 'a>> {
    let head = reader.fill_buf().map_err(|e| Error::io(path, e))?;
    if head.len() >= 2 && head[0] == 0x1f && head[1] == 0x8b {
        let gz = flate2::bufread::MultiGzDecoder::new(reader);
        Ok(Box::new(BufReader::with_capacity(1 << 16, gz)))
    } else {
        Ok(Box::new(reader))
    }
}
