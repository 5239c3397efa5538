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
const END64: u32 = 0x0606_4b50;
const LOCATOR64: u32 = 0x0706_4b50;
/// The zip64 extra field's header id.
const ZIP64_EXTRA: u16 = 0x0001;
/// A 32-bit field that says "see the zip64 record".
const FULL32: u32 = u32::MAX;
/// 1980-01-01 00:00 in MS-DOS time: a fixed date, so equal contents give
/// equal files.
const DOS_DATE: u16 = 0x21;
/// Bytes converted per write of a typed array.
const CHUNK: usize = 1 << 16;

/// Writes one entry's bytes; called twice (CRC and size, then the file).
type Body<'a> = Box<dyn Fn(&mut dyn Write) -> std::io::Result<()> + 'a>;

/// An archive of arrays borrowed from the caller, written by
/// [`NpzWriter::finish`] in one streaming pass per entry after one pass
/// for its CRC: nothing is buffered whole, so saving a model costs no
/// second copy of it, and an archive or entry past 4 GiB takes the zip64
/// records (which `numpy.load` reads) instead of failing.
pub struct NpzWriter<'a> {
    entries: Vec<(String, Body<'a>)>,
    zip64_from: u64,
}

impl Default for NpzWriter<'_> {
    fn default() -> Self {
        NpzWriter {
            entries: Vec::new(),
            zip64_from: FULL32 as u64,
        }
    }
}

impl<'a> NpzWriter<'a> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Uses zip64 fields for every size and offset of at least `bytes`
    /// (4 GiB − 1 by default, where the 32-bit fields end): lets tests
    /// write the zip64 layout without writing gigabytes.
    #[doc(hidden)]
    pub fn zip64_from(mut self, bytes: u64) -> Self {
        self.zip64_from = bytes.min(FULL32 as u64);
        self
    }

    /// Adds `name.npy` holding `data` (row-major) of the given shape, as
    /// little-endian f64.
    pub fn f64(&mut self, name: &str, shape: &[usize], data: &'a [f64]) -> Result<()> {
        self.array(name, "<f8", shape, move |w| {
            write_le(w, data, |v: f64| v.to_le_bytes())
        })
    }

    /// Adds `name.npy` holding `data` widened to little-endian i64.
    pub fn i64_of_usize(&mut self, name: &str, shape: &[usize], data: &'a [usize]) -> Result<()> {
        let too_big = || Error::Input(format!("{name}: a value exceeds i64"));
        i64::try_from(data.iter().copied().max().unwrap_or(0)).map_err(|_| too_big())?;
        self.array(name, "<i8", shape, move |w| {
            write_le(w, data, |v: usize| (v as i64).to_le_bytes())
        })
    }

    /// Adds `name.npy` holding `data` widened to little-endian i64.
    pub fn i64_of_u32(&mut self, name: &str, shape: &[usize], data: &'a [u32]) -> Result<()> {
        self.array(name, "<i8", shape, move |w| {
            write_le(w, data, |v: u32| i64::from(v).to_le_bytes())
        })
    }

    /// Adds `name.npy` holding `data` as little-endian i32.
    pub fn i32_of_u32(&mut self, name: &str, shape: &[usize], data: &'a [u32]) -> Result<()> {
        if data.iter().any(|&v| v > i32::MAX as u32) {
            return Err(Error::Input(format!("{name}: a value exceeds i32")));
        }
        self.array(name, "<i4", shape, move |w| {
            write_le(w, data, |v: u32| (v as i32).to_le_bytes())
        })
    }

    /// Adds `name.npy` holding bytes (uint8), e.g. UTF-8 text, copied.
    pub fn bytes(&mut self, name: &str, data: &[u8]) -> Result<()> {
        let data = data.to_vec();
        self.array(name, "|u1", &[data.len()], move |w| w.write_all(&data))
    }

    fn array(
        &mut self,
        name: &str,
        descr: &str,
        shape: &[usize],
        data: impl Fn(&mut dyn Write) -> std::io::Result<()> + 'a,
    ) -> Result<()> {
        let file = format!("{name}.npy");
        if file.len() > u16::MAX as usize || self.entries.len() >= u16::MAX as usize {
            return Err(Error::Input(format!(
                "{file}: too many entries or too long a name for a zip archive"
            )));
        }
        let mut header = Vec::new();
        super::output::write_npy_header(&mut header, descr, shape)
            .map_err(|e| Error::io(name, e))?;
        self.entries.push((
            file,
            Box::new(move |w| {
                w.write_all(&header)?;
                data(w)
            }),
        ));
        Ok(())
    }

    /// Writes the archive.
    pub fn finish(self, w: &mut dyn Write) -> std::io::Result<()> {
        let big = |v: u64| v >= self.zip64_from;
        let mut offset = 0u64;
        let mut central = Vec::new();
        for (file, body) in &self.entries {
            let mut sum = Summing::default();
            body(&mut sum)?;
            let (size, crc) = (sum.len, sum.crc.sum());
            let (big_size, big_off) = (big(size), big(offset));
            let head = |sig: u32, central: bool| {
                let zip64 = big_size || (central && big_off);
                let mut extra = Vec::new();
                if big_size {
                    extra.extend(size.to_le_bytes());
                    extra.extend(size.to_le_bytes());
                }
                if central && big_off {
                    extra.extend(offset.to_le_bytes());
                }
                let mut h = Vec::with_capacity(46 + file.len() + 4 + extra.len());
                h.extend(sig.to_le_bytes());
                let version: u16 = if zip64 { 45 } else { 20 };
                if central {
                    h.extend(version.to_le_bytes()); // made by
                }
                h.extend(version.to_le_bytes()); // needed: 2.0, or 4.5 for zip64
                h.extend(0u16.to_le_bytes()); // flags
                h.extend(0u16.to_le_bytes()); // stored
                h.extend(0u16.to_le_bytes()); // time
                h.extend(DOS_DATE.to_le_bytes());
                h.extend(crc.to_le_bytes());
                let size32 = if big_size { FULL32 } else { size as u32 };
                h.extend(size32.to_le_bytes());
                h.extend(size32.to_le_bytes());
                h.extend((file.len() as u16).to_le_bytes());
                let extra_len = if extra.is_empty() { 0 } else { 4 + extra.len() };
                h.extend((extra_len as u16).to_le_bytes());
                if central {
                    h.extend([0u8; 6]); // comment length, disk, internal attributes
                    h.extend(0u32.to_le_bytes()); // external attributes
                    let off32 = if big_off { FULL32 } else { offset as u32 };
                    h.extend(off32.to_le_bytes());
                }
                h.extend(file.as_bytes());
                if !extra.is_empty() {
                    h.extend(ZIP64_EXTRA.to_le_bytes());
                    h.extend((extra.len() as u16).to_le_bytes());
                    h.extend(extra);
                }
                h
            };
            let local = head(LOCAL, false);
            w.write_all(&local)?;
            let mut counted = Counting { w, len: 0 };
            body(&mut counted)?;
            if counted.len != size {
                return Err(std::io::Error::other(format!(
                    "{file} changed while it was written"
                )));
            }
            central.extend(head(CENTRAL, true));
            offset += local.len() as u64 + size;
        }
        let (cd_offset, cd_len) = (offset, central.len() as u64);
        let count = self.entries.len() as u64;
        w.write_all(&central)?;
        let zip64 = big(cd_offset) || big(cd_len);
        if zip64 {
            let mut rec = Vec::with_capacity(56 + 20);
            rec.extend(END64.to_le_bytes());
            rec.extend(44u64.to_le_bytes()); // size of the rest of the record
            rec.extend(45u16.to_le_bytes()); // made by
            rec.extend(45u16.to_le_bytes()); // needed
            rec.extend([0u8; 8]); // disk numbers
            rec.extend(count.to_le_bytes());
            rec.extend(count.to_le_bytes());
            rec.extend(cd_len.to_le_bytes());
            rec.extend(cd_offset.to_le_bytes());
            rec.extend(LOCATOR64.to_le_bytes());
            rec.extend(0u32.to_le_bytes()); // disk of the zip64 record
            rec.extend((cd_offset + cd_len).to_le_bytes());
            rec.extend(1u32.to_le_bytes()); // disks
            w.write_all(&rec)?;
        }
        let clip = |v: u64| if zip64 { FULL32 } else { v as u32 };
        let mut end = Vec::with_capacity(22);
        end.extend(END.to_le_bytes());
        end.extend([0u8; 4]); // disk numbers
        end.extend((count as u16).to_le_bytes());
        end.extend((count as u16).to_le_bytes());
        end.extend(clip(cd_len).to_le_bytes());
        end.extend(clip(cd_offset).to_le_bytes());
        end.extend(0u16.to_le_bytes()); // comment
        w.write_all(&end)
    }
}

/// Writes `data` as little-endian bytes, a chunk at a time.
fn write_le<T: Copy, const B: usize>(
    w: &mut dyn Write,
    data: &[T],
    le: impl Fn(T) -> [u8; B],
) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(CHUNK);
    for chunk in data.chunks(CHUNK / B) {
        buf.clear();
        for &v in chunk {
            buf.extend_from_slice(&le(v));
        }
        w.write_all(&buf)?;
    }
    Ok(())
}

/// A writer that keeps only the length and CRC of what it is given.
#[derive(Default)]
struct Summing {
    len: u64,
    crc: flate2::Crc,
}

impl Write for Summing {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.crc.update(buf);
        self.len += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Passes bytes through, counting them.
struct Counting<'w> {
    w: &'w mut dyn Write,
    len: u64,
}

impl Write for Counting<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.w.write(buf)?;
        self.len += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.w.flush()
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
        let (count, cd_start, cd_len) = end_record(&tail, len - tail_len, path)?;
        let cd = r.read_at(cd_start, cd_len, "the central directory")?;
        r.index(count, &cd, len)?;
        Ok(r)
    }

    /// The archive held in `bytes`.
    pub fn from_bytes(bytes: Arc<[u8]>, path: &Path) -> Result<NpzReader> {
        let len = bytes.len() as u64;
        let (count, cd_start, cd_len) = end_record(&bytes, 0, path)?;
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
            let packed = u32_at(cd, at + 20)?;
            let unpacked = u32_at(cd, at + 24)?;
            let name_len = u16_at(cd, at + 28)? as usize;
            let extra_len = u16_at(cd, at + 30)? as usize;
            let skip = extra_len + u16_at(cd, at + 32)? as usize;
            let local = u32_at(cd, at + 42)?;
            let name = cd
                .get(at + 46..at + 46 + name_len)
                .ok_or_else(|| bad("truncated central directory"))?;
            let name = String::from_utf8_lossy(name).into_owned();
            let extra = cd
                .get(at + 46 + name_len..at + 46 + name_len + extra_len)
                .ok_or_else(|| bad("truncated central directory"))?;
            at += 46 + name_len + skip;
            // Fields at their 32-bit maximum are in the zip64 extra field,
            // in this order.
            let mut wide = zip64_fields(extra).into_iter();
            let mut field = |v: u32| -> Result<u64> {
                if v != FULL32 {
                    return Ok(v as u64);
                }
                wide.next()
                    .ok_or_else(|| bad(&format!("{name}: zip64 sizes missing")))
            };
            let unpacked = field(unpacked)?;
            let packed = field(packed)?;
            let local = field(local)?;
            let size = usize::try_from(packed)
                .map_err(|_| bad(&format!("{name} is too large for this machine")))?;
            if method != 0 {
                return Err(bad(&format!(
                    "{name} is compressed (method {method}); only stored entries are read"
                )));
            }
            if packed != unpacked {
                return Err(bad(&format!(
                    "{name}: stored size {packed} differs from its size {unpacked}"
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

/// The 64-bit values of the zip64 extra field in `extra` (none without one).
fn zip64_fields(extra: &[u8]) -> Vec<u64> {
    let mut at = 0;
    while let Some(h) = extra.get(at..at + 4) {
        let id = u16::from_le_bytes([h[0], h[1]]);
        let len = u16::from_le_bytes([h[2], h[3]]) as usize;
        let Some(body) = extra.get(at + 4..at + 4 + len) else {
            break;
        };
        if id == ZIP64_EXTRA {
            return body
                .chunks_exact(8)
                .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
                .collect();
        }
        at += 4 + len;
    }
    Vec::new()
}

fn not_npz(path: &Path, msg: &str) -> Error {
    Error::parse(path, 0, format!("not a valid .npz archive: {msg}"))
}

/// The end record in an archive's last bytes (`tail`, which starts at
/// byte `tail_start` of the archive): entry count, and the central
/// directory's offset and length, from the zip64 record when there is one.
fn end_record(tail: &[u8], tail_start: u64, path: &Path) -> Result<(usize, u64, usize)> {
    let u32_at = |o: usize| {
        tail.get(o..o + 4)
            .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")))
    };
    let u64_at = |o: usize| {
        tail.get(o..o + 8)
            .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
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
    let locator = end
        .checked_sub(20)
        .filter(|&o| u32_at(o) == Some(LOCATOR64));
    if let Some(loc) = locator {
        let bad = || not_npz(path, "damaged zip64 end-of-archive record");
        let at = u64_at(loc + 8)
            .and_then(|a| a.checked_sub(tail_start))
            .and_then(|a| usize::try_from(a).ok())
            .filter(|&a| u32_at(a) == Some(END64))
            .ok_or_else(bad)?;
        let count = u64_at(at + 32).ok_or_else(bad)?;
        let cd_len = u64_at(at + 40).ok_or_else(bad)?;
        let cd_start = u64_at(at + 48).ok_or_else(bad)?;
        let count = usize::try_from(count).map_err(|_| bad())?;
        let cd_len = usize::try_from(cd_len).map_err(|_| bad())?;
        return Ok((count, cd_start, cd_len));
    }
    let count = u16::from_le_bytes([tail[end + 10], tail[end + 11]]) as usize;
    let cd_len = u32_at(end + 12).unwrap_or(0) as usize;
    let cd_start = u32_at(end + 16).unwrap_or(0) as u64;
    Ok((count, cd_start, cd_len))
}
