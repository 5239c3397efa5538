//! Streaming Matrix Market reader (SPEC §1).
//!
//! Nothing is allocated from a count written in the header before the data
//! prove it: a header may claim 10^12 entries.

use std::path::Path;

use super::lines::{quote, Lines};
use crate::error::{Error, Result};
use crate::sparse::Coo;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Field {
    Real,
    Integer,
    Pattern,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Symmetry {
    General,
    Symmetric,
}

/// Largest vertex count we accept: METIS and the compact indices use 32-bit signed ints.
pub const MAX_VERTICES: usize = i32::MAX as usize - 1;

/// Reads a Matrix Market `coordinate` file (plain or gzip) into triplets with
/// 0-based indices. A `symmetric` file's stored triangle is mirrored.
/// Values are checked (finite, non-negative) but not otherwise changed.
pub fn read_matrix_market(path: &Path) -> Result<Coo> {
    let reader = super::open_maybe_gz(path)?;
    parse(reader, path)
}

/// Parses Matrix Market text (plain or gzip) from any reader; `path` only
/// names the source in errors.
pub fn read_matrix_market_from<R: std::io::BufRead>(reader: R, path: &Path) -> Result<Coo> {
    parse(super::maybe_gz(reader, path)?, path)
}

pub(crate) fn parse(reader: Box<dyn std::io::BufRead + '_>, path: &Path) -> Result<Coo> {
    let t = parse_any(reader, path, true)?;
    Ok(Coo {
        n: t.nrows,
        rows: t.rows,
        cols: t.cols,
        vals: t.vals,
    })
}

/// Triplets of a matrix that need not be square (0-based indices).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Triplets {
    pub nrows: usize,
    pub ncols: usize,
    pub rows: Vec<u32>,
    pub cols: Vec<u32>,
    pub vals: Vec<f64>,
}

/// Reads a Matrix Market `coordinate` file of any shape (`general`
/// symmetry only), e.g. the edges of new vertices (columns) to a model's
/// vertices (rows).
pub fn read_matrix_market_rect(path: &Path) -> Result<Triplets> {
    parse_any(super::open_maybe_gz(path)?, path, false)
}

fn parse_any(
    reader: Box<dyn std::io::BufRead + '_>,
    path: &Path,
    square: bool,
) -> Result<Triplets> {
    let mut lines = Lines::new(reader, path);
    let err = |line: u64, msg: String| Error::parse(path, line, msg);

    let header = match lines.next_line()? {
        Some((_, h)) => h.to_string(),
        None => {
            return Err(err(
                0,
                "empty file: expected a '%%MatrixMarket' header".into(),
            ))
        }
    };
    let (field, symmetry) = parse_header(&header).map_err(|m| err(1, m))?;

    // Skip comments and blank lines up to the size line.
    let (nrows, ncols, nnz, size_line) = loop {
        let eof_line = lines.lineno + 1;
        let Some((line_no, line)) = lines.next_line()? else {
            return Err(err(
                eof_line,
                "missing size line 'rows cols entries'".into(),
            ));
        };
        let t = line.trim();
        if t.is_empty() || t.starts_with('%') {
            continue;
        }
        let mut it = t.split_ascii_whitespace();
        let mut num = |what: &str| -> Result<u64> {
            let tok = it.next().ok_or_else(|| {
                err(
                    line_no,
                    format!("size line: missing {what} (expected 'rows cols entries')"),
                )
            })?;
            tok.parse::<u64>().map_err(|_| {
                err(
                    line_no,
                    format!(
                        "size line: {what} '{}' is not a non-negative integer",
                        quote(tok)
                    ),
                )
            })
        };
        let r = num("row count")?;
        let c = num("column count")?;
        let z = num("entry count")?;
        if it.next().is_some() {
            return Err(err(
                line_no,
                "size line has more than 3 numbers (a dense 'array' file?)".into(),
            ));
        }
        break (r, c, z, line_no);
    };
    if square && nrows != ncols {
        return Err(err(
            size_line,
            format!("matrix is not square ({nrows} x {ncols}); a graph needs an N x N matrix"),
        ));
    }
    if !square && symmetry == Symmetry::Symmetric {
        return Err(err(
            1,
            "a 'symmetric' file here: the matrix of new vertices' edges is 'general'".into(),
        ));
    }
    if nrows == 0 || ncols == 0 {
        return Err(err(
            size_line,
            "matrix has no rows or no columns: nothing to embed".into(),
        ));
    }
    if nrows.max(ncols) as usize > MAX_VERTICES {
        return Err(err(
            size_line,
            format!(
                "{} vertices exceed the supported maximum of {MAX_VERTICES}",
                nrows.max(ncols)
            ),
        ));
    }
    let (n, nc) = (nrows as usize, ncols as usize);
    // A symmetric file with more entries than one triangle holds is read
    // on, so the message can name the first entry in the other triangle.
    if nnz > nrows * ncols {
        return Err(err(
            size_line,
            format!("entry count {nnz} exceeds what a {n} x {nc} matrix can hold"),
        ));
    }

    // Reserve modestly; the vectors grow as the data prove the count.
    let reserve = (nnz as usize).min(1 << 20);
    let mut coo = Triplets {
        nrows: n,
        ncols: nc,
        rows: Vec::with_capacity(reserve),
        cols: Vec::with_capacity(reserve),
        vals: Vec::with_capacity(reserve),
    };
    let mut seen: u64 = 0;
    // In a symmetric file: the first off-diagonal entry's line and whether
    // it lies below the diagonal; every other must lie on the same side.
    let mut triangle: Option<(u64, bool)> = None;
    while let Some((line_no, line)) = lines.next_line()? {
        let t = line.trim();
        if t.is_empty() || t.starts_with('%') {
            continue;
        }
        if seen == nnz {
            return Err(err(
                line_no,
                format!("more entries than the {nnz} the size line declares"),
            ));
        }
        let mut it = t.split_ascii_whitespace();
        let i = parse_index(it.next(), n, "row", line_no, path)?;
        let j = parse_index(it.next(), nc, "column", line_no, path)?;
        let v = match field {
            Field::Pattern => 1.0,
            Field::Real | Field::Integer => {
                let tok = it.next().ok_or_else(|| {
                    err(
                        line_no,
                        "missing value (the header says the entries have values)".into(),
                    )
                })?;
                let v = if field == Field::Integer {
                    tok.parse::<i64>().map_err(|_| {
                        err(line_no, format!("value '{}' is not an integer", quote(tok)))
                    })? as f64
                } else {
                    tok.parse::<f64>().map_err(|_| {
                        err(line_no, format!("value '{}' is not a number", quote(tok)))
                    })?
                };
                if !v.is_finite() {
                    return Err(err(
                        line_no,
                        format!("value '{}' is not finite", quote(tok)),
                    ));
                }
                if v < 0.0 {
                    return Err(err(
                        line_no,
                        format!(
                            "negative value {}: edge weights must be non-negative",
                            quote(tok)
                        ),
                    ));
                }
                v
            }
        };
        if it.next().is_some() {
            return Err(err(line_no, "too many fields on an entry line".into()));
        }
        seen += 1;
        coo.rows.push(i);
        coo.cols.push(j);
        coo.vals.push(v);
        if symmetry == Symmetry::Symmetric && i != j {
            let below = i > j;
            match triangle {
                None => triangle = Some((line_no, below)),
                Some((first, side)) if side != below => {
                    let (here, there) = if below {
                        ("below", "above")
                    } else {
                        ("above", "below")
                    };
                    return Err(err(
                        line_no,
                        format!(
                            "entry ({}, {}) lies {here} the diagonal, but line {first}'s lies \
                             {there} it: a 'symmetric' file stores one triangle and this one \
                             seems to hold both; declare it 'general' or keep one triangle",
                            i + 1,
                            j + 1
                        ),
                    ));
                }
                Some(_) => {}
            }
            coo.rows.push(j);
            coo.cols.push(i);
            coo.vals.push(v);
        }
    }
    if seen != nnz {
        return Err(err(
            lines.lineno,
            format!("file ends after {seen} entries but the size line (line {size_line}) declares {nnz}"),
        ));
    }
    Ok(coo)
}

fn parse_index(tok: Option<&str>, n: usize, what: &str, line: u64, path: &Path) -> Result<u32> {
    let tok = tok.ok_or_else(|| Error::parse(path, line, format!("missing {what} index")))?;
    let v: u64 = tok.parse().map_err(|_| {
        Error::parse(
            path,
            line,
            format!("{what} index '{}' is not a positive integer", quote(tok)),
        )
    })?;
    if v == 0 || v > n as u64 {
        return Err(Error::parse(
            path,
            line,
            format!("{what} index {v} out of range 1..={n} (indices are 1-based)"),
        ));
    }
    Ok((v - 1) as u32)
}

fn parse_header(h: &str) -> std::result::Result<(Field, Symmetry), String> {
    let lower = h.trim().to_ascii_lowercase();
    let toks: Vec<&str> = lower.split_ascii_whitespace().collect();
    if toks.first() != Some(&"%%matrixmarket") {
        return Err(
            "not a Matrix Market file: the first line must start with '%%MatrixMarket'".into(),
        );
    }
    if toks.len() != 5 {
        return Err(format!(
            "malformed header '{}': expected '%%MatrixMarket matrix coordinate <field> <symmetry>'",
            h.trim()
        ));
    }
    if toks[1] != "matrix" {
        return Err(format!(
            "unsupported object '{}': only 'matrix' is supported",
            toks[1]
        ));
    }
    match toks[2] {
        "coordinate" => {}
        "array" => return Err(
            "dense 'array' format is not supported: a graph must be a sparse 'coordinate' matrix"
                .into(),
        ),
        other => return Err(format!("unknown format '{other}': expected 'coordinate'")),
    }
    let field = match toks[3] {
        "real" | "double" => Field::Real,
        "integer" => Field::Integer,
        "pattern" => Field::Pattern,
        "complex" => {
            return Err("'complex' matrices are not supported: edge weights must be real".into())
        }
        other => {
            return Err(format!(
                "unknown field '{other}': expected real, integer or pattern"
            ))
        }
    };
    let sym = match toks[4] {
        "general" => Symmetry::General,
        "symmetric" => Symmetry::Symmetric,
        "skew-symmetric" | "hermitian" => {
            return Err(format!(
                "'{}' matrices are not supported: use general or symmetric",
                toks[4]
            ))
        }
        other => {
            return Err(format!(
                "unknown symmetry '{other}': expected general or symmetric"
            ))
        }
    };
    Ok((field, sym))
}

/// Writes a graph in Matrix Market `coordinate real general` form (1-based).
pub fn write_matrix_market<W: std::io::Write + ?Sized>(
    w: &mut W,
    coo: &Coo,
) -> std::io::Result<()> {
    write_matrix_market_with_comments(w, coo, &[])
}

/// As [`write_matrix_market`], with `%` comment lines after the banner.
pub fn write_matrix_market_with_comments<W: std::io::Write + ?Sized>(
    w: &mut W,
    coo: &Coo,
    comments: &[String],
) -> std::io::Result<()> {
    writeln!(w, "%%MatrixMarket matrix coordinate real general")?;
    for c in comments {
        for line in c.lines() {
            writeln!(w, "% {line}")?;
        }
    }
    writeln!(w, "{} {} {}", coo.n, coo.n, coo.vals.len())?;
    let mut buf = ryu::Buffer::new();
    for k in 0..coo.vals.len() {
        writeln!(
            w,
            "{} {} {}",
            coo.rows[k] + 1,
            coo.cols[k] + 1,
            buf.format(coo.vals[k])
        )?;
    }
    Ok(())
}
