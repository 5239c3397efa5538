//! Point-data readers: NumPy `.npy` and delimited text. bh_tsne's `data.dat`
//! lives in [`super::bhtsne`].

use std::io::Read;
use std::path::Path;

use super::lines::{quote, Lines};
use crate::error::{Error, Result};
use crate::points::Points;

/// Kinds of input file the binary accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum InputFormat {
    /// Matrix Market coordinate file: a graph.
    Mtx,
    /// NumPy array of points, shape N × D.
    Npy,
    /// Delimited text, one point per line.
    Text,
    /// bh_tsne's binary `data.dat`.
    BhTsne,
}

impl std::str::FromStr for InputFormat {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "mtx" => Ok(InputFormat::Mtx),
            "npy" => Ok(InputFormat::Npy),
            "txt" | "text" | "csv" | "tsv" => Ok(InputFormat::Text),
            "dat" | "bhtsne" => Ok(InputFormat::BhTsne),
            _ => Err(format!(
                "unknown input format '{s}': expected mtx, npy, text or dat"
            )),
        }
    }
}

impl InputFormat {
    /// Picks the format from the file name, or from its first bytes when
    /// the extension says nothing.
    pub fn detect(path: &Path) -> Result<InputFormat> {
        // The content first: a Matrix Market banner or an .npy magic
        // says what the file is, whatever its name.
        let mut head = Vec::with_capacity(16);
        let mut r = super::open_maybe_gz(path)?;
        r.by_ref()
            .take(16)
            .read_to_end(&mut head)
            .map_err(|e| Error::io(path, e))?;
        if head.starts_with(b"%%MatrixMarket") || head.starts_with(b"%%matrixmarket") {
            return Ok(InputFormat::Mtx);
        }
        if head.starts_with(b"\x93NUMPY") {
            return Ok(InputFormat::Npy);
        }
        let name = path
            .file_name()
            .map(|s| s.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let name = name.strip_suffix(".gz").unwrap_or(&name);
        let ext = name.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
        match ext {
            "mtx" | "mm" => Ok(InputFormat::Mtx),
            "npy" => Ok(InputFormat::Npy),
            "txt" | "csv" | "tsv" | "tab" => Ok(InputFormat::Text),
            "dat" => Ok(InputFormat::BhTsne),
            _ => Err(Error::parse(
                path,
                0,
                "cannot tell the input format from the first bytes or the name; \
                 use a .mtx, .npy, .txt/.csv/.tsv or .dat name, or --input-format",
            )),
        }
    }
}

/// Element types of `.npy` files we read.
#[derive(Clone, Copy)]
enum Dtype {
    F64,
    F32,
    I64,
    I32,
    U8,
}

impl Dtype {
    fn size(self) -> usize {
        match self {
            Dtype::F64 | Dtype::I64 => 8,
            Dtype::F32 | Dtype::I32 => 4,
            Dtype::U8 => 1,
        }
    }
}

/// Reads a NumPy `.npy` file holding a 1-D (N points in 1-D) or 2-D array
/// of f64, f32, i64, i32 or u8, little- or big-endian, C or Fortran order.
/// The data size is checked against the file size before anything is
/// allocated, so a lying header cannot exhaust memory.
pub fn read_npy(path: &Path) -> Result<Points> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    parse_npy(&bytes, path)
}

/// Parses the bytes of a `.npy` file; `path` only names it in errors.
pub fn parse_npy(bytes: &[u8], path: &Path) -> Result<Points> {
    let bad = |msg: String| Error::parse(path, 0, msg);
    let a = parse_npy_array(bytes, path)?;
    let (n, d) = match a.shape[..] {
        [n] => (n, 1),
        [n, d] => (n, d),
        _ => {
            return Err(bad(format!(
                "the array has shape {:?}; expected N points x D coordinates (2-D)",
                a.shape
            )))
        }
    };
    if n == 0 || d == 0 {
        return Err(bad(format!("the array is empty (shape {n} x {d})")));
    }
    if let Some(k) = a.data.iter().position(|v| !v.is_finite()) {
        return Err(bad(format!(
            "point {} coordinate {} is {}",
            k / d + 1,
            k % d + 1,
            a.data[k]
        )));
    }
    Points::try_new(n, d, a.data)
}

/// A NumPy array of any shape, its values as f64, in C (row-major) order.
#[derive(Clone, Debug, PartialEq)]
pub struct NpyArray {
    pub shape: Vec<usize>,
    pub data: Vec<f64>,
}

/// Parses a `.npy` array of f64, f32, i64, i32 or u8 (either byte order,
/// C or Fortran order, any shape, possibly empty). The data size is checked
/// against the bytes before anything is allocated.
pub fn parse_npy_array(bytes: &[u8], path: &Path) -> Result<NpyArray> {
    let bad = |msg: String| Error::parse(path, 0, msg);
    let file_len = bytes.len() as u64;
    let mut f = bytes;
    let mut pre = [0u8; 10];
    read_exact(&mut f, &mut pre, path, "the .npy preamble")?;
    if &pre[..6] != b"\x93NUMPY" {
        return Err(bad("not a NumPy .npy file (bad magic bytes)".into()));
    }
    let (hlen, pre_len) = match pre[6] {
        1 => (u16::from_le_bytes([pre[8], pre[9]]) as u64, 10u64),
        2 | 3 => {
            let mut more = [0u8; 2];
            read_exact(&mut f, &mut more, path, "the .npy preamble")?;
            (
                u32::from_le_bytes([pre[8], pre[9], more[0], more[1]]) as u64,
                12u64,
            )
        }
        v => return Err(bad(format!("unsupported .npy format version {v}"))),
    };
    if hlen > 1 << 20 || pre_len + hlen > file_len {
        return Err(bad(format!(
            "header length {hlen} is larger than the file ({file_len} bytes)"
        )));
    }
    let (hbytes, raw) = f.split_at(hlen as usize);
    let header =
        std::str::from_utf8(hbytes).map_err(|_| bad("the .npy header is not text".into()))?;
    let descr = dict_value(header, "descr")
        .ok_or_else(|| bad(format!("no 'descr' in the .npy header: {header}")))?;
    let descr = descr.trim_matches(|c| c == '\'' || c == '"');
    let (big, ty) = match descr.as_bytes().first() {
        Some(b'<') | Some(b'|') | Some(b'=') => (false, &descr[1..]),
        Some(b'>') => (true, &descr[1..]),
        _ => (false, descr),
    };
    let dtype = match ty {
        "f8" => Dtype::F64,
        "f4" => Dtype::F32,
        "i8" => Dtype::I64,
        "i4" => Dtype::I32,
        "u1" => Dtype::U8,
        _ => {
            return Err(bad(format!(
                "unsupported .npy element type '{descr}': expected float64, float32, int64, int32 or uint8"
            )))
        }
    };
    let fortran = match dict_value(header, "fortran_order") {
        Some("True") => true,
        Some("False") => false,
        _ => {
            return Err(bad(format!(
                "no valid 'fortran_order' in the .npy header: {header}"
            )))
        }
    };
    let shape_s = dict_value(header, "shape")
        .ok_or_else(|| bad(format!("no 'shape' in the .npy header: {header}")))?;
    let dims: Vec<u64> = shape_s
        .trim_matches(|c| c == '(' || c == ')')
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<u64>())
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| bad(format!("bad shape {shape_s} in the .npy header")))?;
    let count = dims.iter().try_fold(1u64, |a, &b| a.checked_mul(b));
    let need = count.and_then(|c| c.checked_mul(dtype.size() as u64));
    let have = file_len - pre_len - hlen;
    if need != Some(have) {
        return Err(bad(format!(
            "shape {shape_s} needs {} bytes of data, the file holds {have} (truncated or inconsistent)",
            need.map(|v| v.to_string()).unwrap_or_else(|| "too many".into())
        )));
    }
    let shape: Vec<usize> = dims.iter().map(|&v| v as usize).collect();
    // One loop per element type: the conversion vectorises.
    macro_rules! convert {
        ($t:ty, $n:expr) => {
            raw.chunks_exact($n)
                .map(|c| {
                    let b: [u8; $n] = c.try_into().expect("chunk of the element size");
                    (if big {
                        <$t>::from_be_bytes(b)
                    } else {
                        <$t>::from_le_bytes(b)
                    }) as f64
                })
                .collect::<Vec<f64>>()
        };
    }
    let mut data = match dtype {
        Dtype::F64 => convert!(f64, 8),
        Dtype::F32 => convert!(f32, 4),
        Dtype::I64 => convert!(i64, 8),
        Dtype::I32 => convert!(i32, 4),
        Dtype::U8 => raw.iter().map(|&b| b as f64).collect(),
    };
    if fortran && shape.len() > 1 {
        data = fortran_to_c(&data, &shape);
    }
    Ok(NpyArray { shape, data })
}

/// Reorders a column-major array into row-major.
fn fortran_to_c(data: &[f64], shape: &[usize]) -> Vec<f64> {
    let mut out = vec![0.0; data.len()];
    let nd = shape.len();
    let mut idx = vec![0usize; nd];
    for v in data {
        // idx runs in Fortran order (first axis fastest).
        let mut c = 0;
        for a in 0..nd {
            c = c * shape[a] + idx[a];
        }
        out[c] = *v;
        for a in 0..nd {
            idx[a] += 1;
            if idx[a] < shape[a] {
                break;
            }
            idx[a] = 0;
        }
    }
    out
}

fn read_exact(r: &mut impl Read, buf: &mut [u8], path: &Path, what: &str) -> Result<()> {
    r.read_exact(buf).map_err(|e| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            Error::parse(path, 0, format!("the file ends inside {what}"))
        } else {
            Error::io(path, e)
        }
    })
}

/// The raw text of `key`'s value in a Python dict literal as NumPy writes it.
fn dict_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let pats = [format!("'{key}':"), format!("\"{key}\":")];
    let start = pats
        .iter()
        .find_map(|p| header.find(p.as_str()).map(|i| i + p.len()))?;
    let rest = header[start..].trim_start();
    let end = if rest.starts_with('(') {
        rest.find(')')? + 1
    } else {
        rest.find([',', '}'])?
    };
    Some(rest[..end].trim())
}

/// Reads delimited text: one point per line, every line the same count.
/// The first data line fixes the file's one separator: a comma if it has
/// one, else a semicolon, else a tab, else runs of spaces. Spaces around a
/// comma, semicolon or tab are ignored; an empty field (`1,,3`, a trailing
/// comma) and a line that mixes separators (`1,5;2,25`, decimal commas) are
/// errors naming the line. Blank lines and lines starting with '#' are
/// skipped, and so is a first line with no number in it (a CSV header).
/// Gzip is read transparently.
pub fn read_text(path: &Path) -> Result<Points> {
    read_text_from(super::open_maybe_gz(path)?, path)
}

/// The one separator of a delimited text file.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Sep {
    Comma,
    Semicolon,
    Tab,
    Space,
}

impl Sep {
    fn of(line: &str) -> Sep {
        if line.contains(',') {
            Sep::Comma
        } else if line.contains(';') {
            Sep::Semicolon
        } else if line.contains('\t') {
            Sep::Tab
        } else {
            Sep::Space
        }
    }

    fn name(self) -> &'static str {
        match self {
            Sep::Comma => "','",
            Sep::Semicolon => "';'",
            Sep::Tab => "tab",
            Sep::Space => "spaces",
        }
    }

    /// The fields of `line`, or an error message for a separator of another
    /// kind or an empty field.
    fn split(self, line: &str) -> std::result::Result<Vec<&str>, String> {
        let other = match self {
            Sep::Comma => line.find(';').map(|_| ';'),
            Sep::Semicolon => line.find(',').map(|_| ','),
            Sep::Tab | Sep::Space => line.find([',', ';']).map(|p| line.as_bytes()[p] as char),
        };
        if let Some(c) = other {
            let hint = if matches!((self, c), (Sep::Semicolon, ',') | (Sep::Comma, ';')) {
                " (decimal commas are not read: write 2.5, not 2,5)"
            } else {
                ""
            };
            return Err(format!(
                "a '{c}' on a line of a file whose first data line is separated by {}: \
                 use one separator throughout{hint}",
                self.name()
            ));
        }
        let fields: Vec<&str> = match self {
            Sep::Space => return Ok(line.split_whitespace().collect()),
            Sep::Comma => line.split(',').map(str::trim).collect(),
            Sep::Semicolon => line.split(';').map(str::trim).collect(),
            Sep::Tab => line.split('\t').map(str::trim).collect(),
        };
        if let Some(k) = fields.iter().position(|f| f.is_empty()) {
            let at = if k + 1 == fields.len() {
                format!(" (a trailing {})", self.name())
            } else {
                String::new()
            };
            return Err(format!("field {} is empty{at}", k + 1));
        }
        Ok(fields)
    }
}

/// As [`read_text`], from any reader; `path` only names the source in errors.
pub fn read_text_from<'a>(
    reader: Box<dyn std::io::BufRead + 'a>,
    path: &'a Path,
) -> Result<Points> {
    let mut lines = Lines::new(reader, path);
    let mut vals: Vec<f64> = Vec::new();
    let mut d = 0usize;
    let mut n = 0usize;
    let mut first = true;
    let mut sep: Option<Sep> = None;
    while let Some((no, line)) = lines.next_line()? {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        if first {
            first = false;
            // A header: no field of it is a number, whatever separates them.
            if t.split(|c: char| c.is_whitespace() || c == ',' || c == ';')
                .filter(|s| !s.is_empty())
                .all(|s| s.parse::<f64>().is_err())
            {
                continue;
            }
        }
        let s = *sep.get_or_insert_with(|| Sep::of(t));
        if n == 0 && t.contains(',') && t.contains(';') {
            return Err(Error::parse(
                path,
                no,
                "both ',' and ';' on the first data line: decimal commas are not read \
                 (write 2.5, not 2,5) and a file uses one separator",
            ));
        }
        let toks = s.split(t).map_err(|m| Error::parse(path, no, m))?;
        let before = vals.len();
        for tok in toks {
            let v: f64 = tok
                .parse()
                .map_err(|_| Error::parse(path, no, format!("'{}' is not a number", quote(tok))))?;
            if !v.is_finite() {
                return Err(Error::parse(
                    path,
                    no,
                    format!("'{}' is not finite", quote(tok)),
                ));
            }
            vals.push(v);
        }
        let k = vals.len() - before;
        if n == 0 {
            d = k;
        } else if k != d {
            return Err(Error::parse(
                path,
                no,
                format!("{k} numbers on this line, but {d} on the first data line"),
            ));
        }
        n += 1;
    }
    if n == 0 {
        return Err(Error::parse(path, 0, "no data rows"));
    }
    Points::try_new(n, d, vals)
}

/// Reads points in the given format (not Matrix Market).
pub fn read_points(path: &Path, format: InputFormat) -> Result<Points> {
    match format {
        InputFormat::Npy => read_npy(path),
        InputFormat::Text => read_text(path),
        InputFormat::BhTsne => Ok(super::bhtsne::read_data_dat(path)?.points),
        InputFormat::Mtx => Err(Error::Input(format!(
            "{}: a Matrix Market graph, not point data",
            path.display()
        ))),
    }
}

/// Writes points as a little-endian f64 `.npy` (used by tests and tools).
pub fn write_npy<W: std::io::Write + ?Sized>(w: &mut W, p: &Points) -> std::io::Result<()> {
    super::output::write_npy_header(w, "<f8", &[p.n(), p.d()])?;
    for v in p.as_slice() {
        w.write_all(&v.to_le_bytes())?;
    }
    Ok(())
}
