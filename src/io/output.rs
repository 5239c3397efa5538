//! Writing embeddings (SPEC §9): text by default, other formats by
//! extension; always to a temporary file renamed into place, so a failure
//! never leaves a partial result.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::points::Points;

/// Output file formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// Whitespace-separated text, one vertex per line (SG-t-SNE-Π's `embedding.txt`).
    Text,
    Csv,
    Tsv,
    /// NumPy `.npy`, little-endian f64, shape N × d.
    Npy,
    /// Raw little-endian f64, row-major, no header.
    Bin,
}

impl Format {
    /// The format implied by a file name's extension; text when unknown.
    pub fn from_path(p: &Path) -> Format {
        match p
            .extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase())
            .as_deref()
        {
            Some("csv") => Format::Csv,
            Some("tsv") => Format::Tsv,
            Some("npy") => Format::Npy,
            Some("bin") => Format::Bin,
            _ => Format::Text,
        }
    }
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "txt" | "text" => Ok(Format::Text),
            "csv" => Ok(Format::Csv),
            "tsv" => Ok(Format::Tsv),
            "npy" => Ok(Format::Npy),
            "bin" => Ok(Format::Bin),
            _ => Err(format!(
                "unknown format '{s}': expected txt, csv, tsv, npy or bin"
            )),
        }
    }
}

/// Serialises the rows of `coords` into `w` in the given format.
pub fn write_rows<W: Write + ?Sized>(
    w: &mut W,
    coords: &Points,
    format: Format,
) -> std::io::Result<()> {
    let rows = coords.as_slice().chunks_exact(coords.d());
    let mut buf = ryu::Buffer::new();
    let sep: &[u8] = match format {
        Format::Csv => b",",
        Format::Tsv => b"\t",
        _ => b" ",
    };
    match format {
        Format::Text | Format::Csv | Format::Tsv => {
            for r in rows {
                for (k, v) in r.iter().enumerate() {
                    if k > 0 {
                        w.write_all(sep)?;
                    }
                    // ryu: the shortest representation that reads back to the same f64.
                    w.write_all(buf.format(*v).as_bytes())?;
                }
                w.write_all(b"\n")?;
            }
        }
        Format::Npy => {
            write_npy_header(w, "<f8", &[coords.n(), coords.d()])?;
            write_raw(w, coords.as_slice())?;
        }
        Format::Bin => write_raw(w, coords.as_slice())?,
    }
    Ok(())
}

/// The header of a C-order `.npy` array of element type `descr` (NumPy's
/// spelling, e.g. `<f8`, `<i8`, `|u1`) and the given shape.
pub fn write_npy_header<W: Write + ?Sized>(
    w: &mut W,
    descr: &str,
    shape: &[usize],
) -> std::io::Result<()> {
    let dims: Vec<String> = shape.iter().map(|v| v.to_string()).collect();
    let shape = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    // Magic (6) + version (2) + header length (2) + dict + padding + \n,
    // a multiple of 64 bytes.
    let unpadded = 10 + dict.len() + 1;
    let pad = (64 - unpadded % 64) % 64;
    let hlen = (dict.len() + pad + 1) as u16;
    w.write_all(b"\x93NUMPY\x01\x00")?;
    w.write_all(&hlen.to_le_bytes())?;
    w.write_all(dict.as_bytes())?;
    w.write_all(&vec![b' '; pad])?;
    w.write_all(b"\n")
}

fn write_raw<W: Write + ?Sized>(w: &mut W, vals: &[f64]) -> std::io::Result<()> {
    for v in vals {
        w.write_all(&v.to_le_bytes())?;
    }
    Ok(())
}

/// Writes `path` atomically: the bytes go to a temporary file in the same
/// directory, which is renamed over `path` only when complete. `-` means stdout.
pub fn write_atomic(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    if path == Path::new("-") {
        let stdout = std::io::stdout();
        let mut lock = BufWriter::new(stdout.lock());
        return fill(&mut lock)
            .and_then(|_| lock.flush())
            .map_err(|e| Error::io("<stdout>", e));
    }
    let tmp = temp_path(path);
    let result = (|| -> std::io::Result<()> {
        let f = File::create(&tmp)?;
        let mut bw = BufWriter::with_capacity(1 << 16, f);
        fill(&mut bw)?;
        let f = bw.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(path, e));
    }
    Ok(())
}

fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let tmp = format!(".{}.tmp-{}", name, std::process::id());
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.join(tmp),
        _ => PathBuf::from(tmp),
    }
}

/// Writes an embedding (original vertex order) to `path` in `format`.
pub fn write_embedding(path: &Path, coords: &Points, format: Format) -> Result<()> {
    write_atomic(path, |w| write_rows(w, coords, format))
}

/// Checks up front that the output's directory exists and is writable, so a
/// long run does not end in an error.
pub fn check_writable(path: &Path) -> Result<()> {
    if path == Path::new("-") {
        return Ok(());
    }
    if path.is_dir() {
        return Err(Error::io(
            path,
            std::io::Error::other("is a directory, not a file"),
        ));
    }
    let probe = temp_path(path);
    match File::create(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(e) => Err(Error::io(
            path,
            std::io::Error::new(e.kind(), format!("cannot write here: {e}")),
        )),
    }
}
