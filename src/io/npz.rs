//! NumPy's `.npz`: a zip archive of `.npy` arrays, written here without
//! compression (as `numpy.savez` does), so `numpy.load` opens it. Reading
//! checks every offset, size and CRC against the bytes, so a truncated or
//! foreign file is an error, never a panic or a huge allocation.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

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
    npz_entries(bytes, path)?
        .into_iter()
        .map(|(k, body)| {
            let a = parse_npy_array(body, &path.join(format!("{k}.npy")))?;
            Ok((k, a))
        })
        .collect()
}

/// The entries of an archive as `.npy` bytes, each checked against its CRC
/// but not parsed (see [`parse_npy_array`]), keyed by name without `.npy`.
pub fn npz_entries<'a>(bytes: &'a [u8], path: &Path) -> Result<BTreeMap<String, &'a [u8]>> {
    let bad = |msg: &str| Error::parse(path, 0, format!("not a valid .npz archive: {msg}"));
    let u16_at = |o: usize| -> Result<u16> {
        bytes
            .get(o..o + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
            .ok_or_else(|| bad("truncated"))
    };
    let u32_at = |o: usize| -> Result<u32> {
        bytes
            .get(o..o + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .ok_or_else(|| bad("truncated"))
    };
    // The end record: the last signature within the final 64 KiB + 22 bytes.
    let lo = bytes.len().saturating_sub(22 + 0xffff);
    let end = (lo..bytes.len().saturating_sub(21))
        .rev()
        .find(|&o| u32_at(o).ok() == Some(END))
        .ok_or_else(|| bad("no end-of-archive record (truncated, or not a zip file)"))?;
    let count = u16_at(end + 10)? as usize;
    let mut cd = u32_at(end + 16)? as usize;
    let mut out = BTreeMap::new();
    for _ in 0..count {
        if u32_at(cd)? != CENTRAL {
            return Err(bad("damaged central directory"));
        }
        let method = u16_at(cd + 10)?;
        let crc = u32_at(cd + 16)?;
        let size = u32_at(cd + 20)? as usize;
        let name_len = u16_at(cd + 28)? as usize;
        let skip = u16_at(cd + 30)? as usize + u16_at(cd + 32)? as usize;
        let local = u32_at(cd + 42)? as usize;
        let name = bytes
            .get(cd + 46..cd + 46 + name_len)
            .ok_or_else(|| bad("truncated"))?;
        let name = String::from_utf8_lossy(name).into_owned();
        cd += 46 + name_len + skip;
        if method != 0 {
            return Err(bad(&format!(
                "{name} is compressed (method {method}); only stored entries are read"
            )));
        }
        if u32_at(local)? != LOCAL {
            return Err(bad("damaged entry header"));
        }
        let start = local + 30 + u16_at(local + 26)? as usize + u16_at(local + 28)? as usize;
        let body = bytes
            .get(start..start.saturating_add(size))
            .ok_or_else(|| bad(&format!("{name} is truncated")))?;
        let mut c = flate2::Crc::new();
        c.update(body);
        if c.sum() != crc {
            return Err(bad(&format!("{name} is corrupted (CRC mismatch)")));
        }
        let key = name.strip_suffix(".npy").unwrap_or(&name).to_string();
        out.insert(key, body);
    }
    Ok(out)
}
