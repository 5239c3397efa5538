//! NumPy's `.npz`: a zip archive of `.npy` arrays, written here without
//! compression (as `numpy.savez` does), so `numpy.load` opens it. Reading
//! checks every offset, size and CRC against the bytes, so a truncated or
//! foreign file is an error, never a panic or a huge allocation.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::points::{parse_npy_array, NpyArray};
use crate::error::{Error, Result};

const LOCAL: u32 = 0x0403_4b50;
const CENTRAL: u32 = 0x0201_4b50;
const END: u32 = 0x0605_4b50;
/// 1980-01-01 00:00 in MS-DOS time: a fixed date, so equal contents give
/// equal files.
const DOS_DATE: u16 = 0x21;

/// Builds an archive in memory, one array at a time.
#[derive(Default)]
pub struct NpzWriter {
    bytes: Vec<u8>,
    central: Vec<u8>,
    entries: u16,
}

impl NpzWriter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `name.npy` holding `data` (row-major) of the given shape, as
    /// little-endian f64.
    pub fn f64(&mut self, name: &str, shape: &[usize], data: &[f64]) -> Result<()> {
        self.array(
            name,
            "<f8",
            shape,
            data.iter().flat_map(|v| v.to_le_bytes()),
        )
    }

    /// Adds `name.npy` holding little-endian i64 values.
    pub fn i64(&mut self, name: &str, shape: &[usize], data: &[i64]) -> Result<()> {
        self.array(
            name,
            "<i8",
            shape,
            data.iter().flat_map(|v| v.to_le_bytes()),
        )
    }

    /// Adds `name.npy` holding little-endian i32 values.
    pub fn i32(&mut self, name: &str, shape: &[usize], data: &[i32]) -> Result<()> {
        self.array(
            name,
            "<i4",
            shape,
            data.iter().flat_map(|v| v.to_le_bytes()),
        )
    }

    /// Adds `name.npy` holding bytes (uint8), e.g. UTF-8 text.
    pub fn bytes(&mut self, name: &str, data: &[u8]) -> Result<()> {
        self.array(name, "|u1", &[data.len()], data.iter().copied())
    }

    fn array(
        &mut self,
        name: &str,
        descr: &str,
        shape: &[usize],
        data: impl Iterator<Item = u8>,
    ) -> Result<()> {
        let mut body = Vec::new();
        super::output::write_npy_header(&mut body, descr, shape).map_err(|e| Error::io(name, e))?;
        body.extend(data);
        let file = format!("{name}.npy");
        let too_big = || Error::Input(format!("{file}: larger than a zip entry can hold (4 GiB)"));
        let size = u32::try_from(body.len()).map_err(|_| too_big())?;
        let offset = u32::try_from(self.bytes.len()).map_err(|_| too_big())?;
        let mut crc = flate2::Crc::new();
        crc.update(&body);
        let crc = crc.sum();
        let head = |sig: u32, central: bool| {
            let mut h = Vec::with_capacity(46 + file.len());
            h.extend(sig.to_le_bytes());
            if central {
                h.extend(20u16.to_le_bytes()); // made by
            }
            h.extend(20u16.to_le_bytes()); // needed: 2.0
            h.extend(0u16.to_le_bytes()); // flags
            h.extend(0u16.to_le_bytes()); // stored
            h.extend(0u16.to_le_bytes()); // time
            h.extend(DOS_DATE.to_le_bytes());
            h.extend(crc.to_le_bytes());
            h.extend(size.to_le_bytes());
            h.extend(size.to_le_bytes());
            h.extend((file.len() as u16).to_le_bytes());
            h.extend(0u16.to_le_bytes()); // extra
            if central {
                h.extend([0u8; 6]); // comment length, disk, internal attributes
                h.extend(0u32.to_le_bytes()); // external attributes
                h.extend(offset.to_le_bytes());
            }
            h.extend(file.as_bytes());
            h
        };
        self.bytes.extend(head(LOCAL, false));
        self.bytes.extend(&body);
        self.central.extend(head(CENTRAL, true));
        self.entries += 1;
        Ok(())
    }

    /// Writes the archive.
    pub fn finish(self, w: &mut dyn Write) -> std::io::Result<()> {
        let cd_offset = self.bytes.len() as u32;
        w.write_all(&self.bytes)?;
        w.write_all(&self.central)?;
        let mut end = Vec::with_capacity(22);
        end.extend(END.to_le_bytes());
        end.extend([0u8; 4]); // disk numbers
        end.extend(self.entries.to_le_bytes());
        end.extend(self.entries.to_le_bytes());
        end.extend((self.central.len() as u32).to_le_bytes());
        end.extend(cd_offset.to_le_bytes());
        end.extend(0u16.to_le_bytes()); // comment
        w.write_all(&end)
    }
}

/// Reads every `.npy` entry of an archive (stored, uncompressed), keyed by
/// its name without `.npy`. `path` names the file in errors.
pub fn read_npz(bytes: &[u8], path: &Path) -> Result<BTreeMap<String, NpyArray>> {
    let z = NpzReader::from_bytes(Arc::from(bytes), path)?;
    z.entries
        .keys()
        .map(|k| {
            let a = z.array(k)?.expect("a listed entry");
            Ok((k.clone(), a))
        })
        .collect()
}

/// Where an archive's entry lies and what its CRC must be.
#[derive(Clone, Copy, Debug)]
struct Entry {
    start: u64,
    size: usize,
    crc: u32,
}

#[derive(Debug)]
enum Source {
    Bytes(Arc<[u8]>),
    /// The file stays open, so an entry read later comes from the file as
    /// it was opened even if its path has since been replaced.
    File(Mutex<File>),
}

/// An archive whose entries are read one at a time, each checked against
/// its CRC when read: a file is never read whole, so a caller that needs
/// a few arrays of a large archive reads only those.
#[derive(Debug)]
pub struct NpzReader {
    path: PathBuf,
    src: Source,
    entries: BTreeMap<String, Entry>,
}

impl NpzReader {
    /// Opens the archive at `path` and reads its directory.
    pub fn open(path: &Path) -> Result<NpzReader> {
        let mut f = File::open(path).map_err(|e| Error::io(path, e))?;
        let len = f.metadata().map_err(|e| Error::io(path, e))?.len();
        let tail_len = len.min(22 + 0xffff);
        let mut tail = vec![0u8; tail_len as usize];
        f.seek(SeekFrom::Start(len - tail_len))
            .and_then(|_| f.read_exact(&mut tail))
            .map_err(|e| Error::io(path, e))?;
        let mut r = NpzReader {
            path: path.to_path_buf(),
            src: Source::File(Mutex::new(f)),
            entries: BTreeMap::new(),
        };
        let (count, cd_start, cd_len) = end_record(&tail, path)?;
        let cd = r.read_at(cd_start, cd_len, "the central directory")?;
        r.index(count, &cd, len)?;
        Ok(r)
    }

    /// The archive held in `bytes`.
    pub fn from_bytes(bytes: Arc<[u8]>, path: &Path) -> Result<NpzReader> {
        let len = bytes.len() as u64;
        let (count, cd_start, cd_len) = end_record(&bytes, path)?;
        let cd = bytes
            .get(cd_start as usize..(cd_start as usize).saturating_add(cd_len))
            .ok_or_else(|| not_npz(path, "truncated central directory"))?
            .to_vec();
        let mut r = NpzReader {
            path: path.to_path_buf(),
            src: Source::Bytes(bytes),
            entries: BTreeMap::new(),
        };
        r.index(count, &cd, len)?;
        Ok(r)
    }

    /// The archive's path (for messages).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the archive holds `name.npy`.
    pub fn has(&self, name: &str) -> bool {
        self.entries.contains_key(name)
    }

    /// The `.npy` bytes of `name`, checked against the entry's CRC.
    pub fn bytes(&self, name: &str) -> Result<Option<Vec<u8>>> {
        let Some(&e) = self.entries.get(name) else {
            return Ok(None);
        };
        let body = self.read_at(e.start, e.size, name)?;
        let mut c = flate2::Crc::new();
        c.update(&body);
        if c.sum() != e.crc {
            return Err(not_npz(
                &self.path,
                &format!("{name}.npy is corrupted (CRC mismatch)"),
            ));
        }
        Ok(Some(body))
    }

    /// The array `name`, parsed.
    pub fn array(&self, name: &str) -> Result<Option<NpyArray>> {
        match self.bytes(name)? {
            Some(b) => Ok(Some(parse_npy_array(
                &b,
                &self.path.join(format!("{name}.npy")),
            )?)),
            None => Ok(None),
        }
    }

    fn read_at(&self, start: u64, size: usize, what: &str) -> Result<Vec<u8>> {
        let truncated = || not_npz(&self.path, &format!("{what} is truncated"));
        match &self.src {
            Source::Bytes(b) => b
                .get(start as usize..(start as usize).saturating_add(size))
                .map(<[u8]>::to_vec)
                .ok_or_else(truncated),
            Source::File(f) => {
                let mut f = f.lock().unwrap_or_else(|e| e.into_inner());
                let len = f.metadata().map_err(|e| Error::io(&self.path, e))?.len();
                if start.saturating_add(size as u64) > len {
                    return Err(truncated());
                }
                let mut out = vec![0u8; size];
                f.seek(SeekFrom::Start(start))
                    .and_then(|_| f.read_exact(&mut out))
                    .map_err(|e| Error::io(&self.path, e))?;
                Ok(out)
            }
        }
    }

    /// Reads the central directory and each entry's local header.
    fn index(&mut self, count: usize, cd: &[u8], len: u64) -> Result<()> {
        let path = self.path.clone();
        let bad = |msg: &str| not_npz(&path, msg);
        let u16_at = |b: &[u8], o: usize| -> Result<u16> {
            b.get(o..o + 2)
                .map(|b| u16::from_le_bytes([b[0], b[1]]))
                .ok_or_else(|| bad("truncated central directory"))
        };
        let u32_at = |b: &[u8], o: usize| -> Result<u32> {
            b.get(o..o + 4)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .ok_or_else(|| bad("truncated central directory"))
        };
        let mut at = 0usize;
        for _ in 0..count {
            if u32_at(cd, at)? != CENTRAL {
                return Err(bad("damaged central directory"));
            }
            let method = u16_at(cd, at + 10)?;
            let crc = u32_at(cd, at + 16)?;
            let size = u32_at(cd, at + 20)? as usize;
            let name_len = u16_at(cd, at + 28)? as usize;
            let skip = u16_at(cd, at + 30)? as usize + u16_at(cd, at + 32)? as usize;
            let local = u32_at(cd, at + 42)? as u64;
            let name = cd
                .get(at + 46..at + 46 + name_len)
                .ok_or_else(|| bad("truncated central directory"))?;
            let name = String::from_utf8_lossy(name).into_owned();
            at += 46 + name_len + skip;
            if method != 0 {
                return Err(bad(&format!(
                    "{name} is compressed (method {method}); only stored entries are read"
                )));
            }
            let head = self.read_at(local, 30, &name)?;
            if u32_at(&head, 0)? != LOCAL {
                return Err(bad("damaged entry header"));
            }
            let start = local + 30 + u16_at(&head, 26)? as u64 + u16_at(&head, 28)? as u64;
            if start.saturating_add(size as u64) > len {
                return Err(bad(&format!("{name} is truncated")));
            }
            let key = name.strip_suffix(".npy").unwrap_or(&name).to_string();
            self.entries.insert(key, Entry { start, size, crc });
        }
        Ok(())
    }
}

fn not_npz(path: &Path, msg: &str) -> Error {
    Error::parse(path, 0, format!("not a valid .npz archive: {msg}"))
}

/// The end record in an archive's last bytes: entry count, and the
/// central directory's offset and length.
fn end_record(tail: &[u8], path: &Path) -> Result<(usize, u64, usize)> {
    let u32_at = |o: usize| {
        tail.get(o..o + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let lo = tail.len().saturating_sub(22 + 0xffff);
    let end = (lo..tail.len().saturating_sub(21))
        .rev()
        .find(|&o| u32_at(o) == Some(END))
        .ok_or_else(|| {
            not_npz(
                path,
                "no end-of-archive record (truncated, or not a zip file)",
            )
        })?;
    let count = u16::from_le_bytes([tail[end + 10], tail[end + 11]]) as usize;
    let cd_len = u32_at(end + 12).unwrap_or(0) as usize;
    let cd_start = u32_at(end + 16).unwrap_or(0) as u64;
    Ok((count, cd_start, cd_len))
}
