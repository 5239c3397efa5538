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
    /// The format implied by a file name's extension (before a `.gz`,
    /// which compresses it); text when unknown.
    pub fn from_path(p: &Path) -> Format {
        let p = if is_gz(p) {
            Path::new(p.file_stem().unwrap_or_default())
        } else {
            p
        };
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

/// Temporary files being written: what [`remove_temporaries`] removes when
/// the binary is interrupted, so a signal leaves no `.NAME.tmp-PID` behind.
static TEMPORARIES: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

fn track(p: &Path) {
    if let Ok(mut t) = TEMPORARIES.lock() {
        t.push(p.to_path_buf());
    }
}

fn untrack(p: &Path) {
    if let Ok(mut t) = TEMPORARIES.lock() {
        t.retain(|q| q != p);
    }
}

/// Removes every temporary output file still being written (for a signal
/// handler: the process is about to exit).
pub fn remove_temporaries() {
    if let Ok(mut t) = TEMPORARIES.lock() {
        for p in t.drain(..) {
            let _ = std::fs::remove_file(p);
        }
    }
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
    // A device, FIFO or socket is written through: renaming a temporary
    // over it would replace it with a regular file.
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
        let result = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .and_then(|f| {
                let mut bw = BufWriter::with_capacity(1 << 16, f);
                fill(&mut bw)?;
                bw.flush()
            });
        return result.map_err(|e| Error::io(path, e));
    }
    // A symlink keeps pointing where it did: its target is replaced.
    let mut one = Outputs::new();
    one.add(path, fill)?;
    one.commit()
}

/// Fills a tracked temporary file beside `path`'s target (a symlink's
/// target is the file replaced); returns (temporary, target). On error the
/// temporary is gone.
fn write_temporary(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(PathBuf, PathBuf)> {
    let target = link_target(path).map_err(|e| Error::io(path, e))?;
    let (tmp, f) = create_temporary(&target).map_err(|e| Error::io(path, e))?;
    let result = (|| -> std::io::Result<()> {
        let mut bw = BufWriter::with_capacity(1 << 16, f);
        fill(&mut bw)?;
        let f = bw.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        untrack(&tmp);
        return Err(Error::io(path, e));
    }
    Ok((tmp, target))
}

/// Several outputs written all or none: each is filled completely (regular
/// files as temporaries beside their targets; standard output, devices
/// and FIFOs in memory) before [`Outputs::commit`] renames the temporaries
/// into place and writes the rest through. Dropped without a commit (an
/// error while filling), it removes its temporaries and writes nothing.
#[derive(Default)]
pub struct Outputs {
    staged: Vec<(PathBuf, PathBuf, PathBuf)>,
    direct: Vec<(PathBuf, Vec<u8>)>,
}

impl Outputs {
    pub fn new() -> Outputs {
        Outputs::default()
    }

    /// Fills the output for `path` (`-` = standard output), to be put in
    /// place by [`Outputs::commit`].
    pub fn add(
        &mut self,
        path: &Path,
        fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
    ) -> Result<()> {
        let through = path == Path::new("-") || std::fs::metadata(path).is_ok_and(|m| !m.is_file());
        if through {
            let mut bytes = Vec::new();
            fill(&mut bytes).map_err(|e| Error::io(path, e))?;
            self.direct.push((path.to_path_buf(), bytes));
        } else {
            let (tmp, target) = write_temporary(path, fill)?;
            self.staged.push((tmp, target, path.to_path_buf()));
        }
        Ok(())
    }

    /// Puts every output in place: what is written through first (a full
    /// device or a closed pipe fails there, and the temporaries are then
    /// removed unused), the renames last (they do not run out of space).
    pub fn commit(mut self) -> Result<()> {
        for (path, bytes) in std::mem::take(&mut self.direct) {
            write_atomic(&path, |w| w.write_all(&bytes))?;
        }
        for (tmp, target, path) in std::mem::take(&mut self.staged) {
            let renamed = std::fs::rename(&tmp, &target);
            untrack(&tmp);
            if let Err(e) = renamed {
                let _ = std::fs::remove_file(&tmp);
                return Err(Error::io(&path, e));
            }
        }
        Ok(())
    }
}

impl Drop for Outputs {
    fn drop(&mut self) {
        for (tmp, _, _) in self.staged.drain(..) {
            let _ = std::fs::remove_file(&tmp);
            untrack(&tmp);
        }
    }
}

/// The file a path's symlinks lead to (the path itself when it is not a
/// link; a dangling link's target, to be created). A loop of links (or a
/// chain of more than 40) is an error: replacing the last link with a
/// regular file would turn a link into a file.
fn link_target(path: &Path) -> std::io::Result<PathBuf> {
    let mut p = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let t = std::fs::read_link(&p)?;
                p = if t.is_absolute() {
                    t
                } else {
                    p.parent().unwrap_or(Path::new("")).join(t)
                };
            }
            _ => return Ok(p),
        }
    }
    Err(std::io::Error::other(
        "too many levels of symbolic links (a link loop?)",
    ))
}

/// The `k`-th temporary name beside `path`: `.NAME.tmp-PID-K`, with NAME
/// shortened so the whole stays within the usual 255-byte name limit.
fn temp_path(path: &Path, k: u32) -> PathBuf {
    let name = path
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let mut cut = name.len().min(200);
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    let tmp = format!(".{}.tmp-{}-{k}", &name[..cut], std::process::id());
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.join(tmp),
        _ => PathBuf::from(tmp),
    }
}

/// Creates a new, tracked temporary beside `target`. Created exclusively:
/// a file that happens to have the name (or the temporary of another
/// output whose long name shares the first 200 bytes) is never truncated;
/// the next K is tried instead.
fn create_temporary(target: &Path) -> std::io::Result<(PathBuf, File)> {
    for k in 0..1000 {
        let tmp = temp_path(target, k);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
        {
            Ok(f) => {
                track(&tmp);
                return Ok((tmp, f));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other("no free temporary name beside it"))
}

/// What a path names, to tell when two paths are the same file: its
/// device and inode when it exists (through symlinks), else its
/// directory's canonical path and its name; standard output for `-`.
#[derive(Clone, Debug, PartialEq, Eq)]
enum FileId {
    Stdout,
    Inode(u64, u64),
    New(PathBuf, std::ffi::OsString),
}

fn file_id(path: &Path) -> Option<FileId> {
    if path == Path::new("-") {
        return Some(FileId::Stdout);
    }
    #[cfg(unix)]
    if let Ok(m) = std::fs::metadata(path) {
        use std::os::unix::fs::MetadataExt;
        return Some(FileId::Inode(m.dev(), m.ino()));
    }
    let target = link_target(path).ok()?;
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    Some(FileId::New(
        std::fs::canonicalize(dir).ok()?,
        target.file_name()?.to_owned(),
    ))
}

/// Refuses, before any work, an output that is one of the inputs or
/// another output (the same file by device and inode, whatever the
/// spelling, symlinks included). Each path comes with the name of its
/// role, e.g. `("-o", out)`, `("the input", graph)`.
pub fn check_distinct(outputs: &[(&str, &Path)], inputs: &[(&str, &Path)]) -> Result<()> {
    let ids: Vec<_> = outputs.iter().map(|(_, p)| file_id(p)).collect();
    for (i, (role, path)) in outputs.iter().enumerate() {
        let Some(id) = &ids[i] else { continue };
        for (in_role, in_path) in inputs {
            if *id != FileId::Stdout && file_id(in_path).as_ref() == Some(id) {
                return Err(Error::Input(format!(
                    "{role} {} is {in_role} {}: refusing to overwrite it",
                    path.display(),
                    in_path.display()
                )));
            }
        }
        for (j, (other, other_path)) in outputs.iter().enumerate().skip(i + 1) {
            if ids[j].as_ref() == Some(id) && *id == FileId::Stdout {
                return Err(Error::Input(format!(
                    "{role} and {other} both write to standard output ('-'); at most one output can"
                )));
            }
            if ids[j].as_ref() == Some(id) {
                return Err(Error::Input(format!(
                    "{role} {} and {other} {} are the same file; give each output its own path",
                    path.display(),
                    other_path.display()
                )));
            }
        }
    }
    Ok(())
}

/// Whether a path names a gzip file (`.gz`, any case).
fn is_gz(p: &Path) -> bool {
    p.extension().is_some_and(|e| e.eq_ignore_ascii_case("gz"))
}

/// Writes an embedding (original vertex order) to `path` in `format`,
/// gzip-compressed when the name ends in `.gz`.
pub fn write_embedding(path: &Path, coords: &Points, format: Format) -> Result<()> {
    let mut o = Outputs::new();
    add_embedding(&mut o, path, coords, format)?;
    o.commit()
}

/// Stages an embedding for `outputs`, as [`write_embedding`] writes it.
pub fn add_embedding(
    outputs: &mut Outputs,
    path: &Path,
    coords: &Points,
    format: Format,
) -> Result<()> {
    if is_gz(path) {
        return outputs.add(path, |w| {
            let mut gz = flate2::write::GzEncoder::new(w, flate2::Compression::default());
            write_rows(&mut gz, coords, format)?;
            gz.finish().map(|_| ())
        });
    }
    outputs.add(path, |w| write_rows(w, coords, format))
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
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
        // A device or FIFO is written through; opening a FIFO to probe it
        // would wait for a reader.
        return Ok(());
    }
    match link_target(path).and_then(|t| create_temporary(&t)) {
        Ok((probe, _)) => {
            let _ = std::fs::remove_file(&probe);
            untrack(&probe);
            Ok(())
        }
        Err(e) => Err(Error::io(
            path,
            std::io::Error::new(e.kind(), format!("cannot write here: {e}")),
        )),
    }
}
