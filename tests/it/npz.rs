//! `.npz` archives: the zip64 layout that archives past 4 GiB (a model of a
//! million points) need, read back by our reader and by Python's `zipfile`
//! (what `numpy.load` opens archives with). The layout is forced on small
//! archives by a lower threshold, so no test writes gigabytes.

use std::path::Path;
use std::process::Command;

use sgtsne::io::npz::{read_npz, NpzReader, NpzWriter};

/// The arrays every test writes: one of each kind the model file uses.
struct Arrays {
    f: Vec<f64>,
    rowptr: Vec<usize>,
    cols: Vec<u32>,
    text: Vec<u8>,
}

fn arrays() -> Arrays {
    let mut rng = sgtsne::util::Rng::new(3);
    Arrays {
        // Larger than one write chunk (64 KiB), so entries span chunks.
        f: (0..20_000).map(|_| rng.normal()).collect(),
        rowptr: (0..101).map(|i| i * 7 + 3_000_000_000).collect(),
        cols: (0..30_000)
            .map(|_| rng.below(2_000_000_000) as u32)
            .collect(),
        text: b"{\"format\": \"test\"}".to_vec(),
    }
}

fn archive(a: &Arrays, zip64_from: Option<u64>) -> Vec<u8> {
    let mut z = NpzWriter::new();
    if let Some(t) = zip64_from {
        z = z.zip64_from(t);
    }
    z.bytes("params", &a.text).unwrap();
    z.f64("coords", &[10_000, 2], &a.f).unwrap();
    z.i64_of_usize("p_rowptr", &[a.rowptr.len()], &a.rowptr)
        .unwrap();
    z.i64_of_u32("p_colidx", &[a.cols.len()], &a.cols).unwrap();
    z.i32_of_u32("search_graph", &[3_000, 10], &a.cols).unwrap();
    let mut out = Vec::new();
    z.finish(&mut out).unwrap();
    out
}

/// Every array of `bytes` equals what was written.
fn check_ours(bytes: &[u8], a: &Arrays, what: &str) {
    let got = read_npz(bytes, Path::new("t.npz")).unwrap_or_else(|e| panic!("{what}: {e}"));
    let names: Vec<&str> = got.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        ["coords", "p_colidx", "p_rowptr", "params", "search_graph"],
        "{what}"
    );
    assert_eq!(got["coords"].shape, [10_000, 2], "{what}");
    assert_eq!(got["coords"].data, a.f, "{what}");
    let as_f64 = |v: &[u32]| v.iter().map(|&x| x as f64).collect::<Vec<_>>();
    assert_eq!(got["p_colidx"].data, as_f64(&a.cols), "{what}");
    assert_eq!(got["search_graph"].shape, [3_000, 10], "{what}");
    assert_eq!(got["search_graph"].data, as_f64(&a.cols), "{what}");
    let rowptr: Vec<f64> = a.rowptr.iter().map(|&x| x as f64).collect();
    assert_eq!(got["p_rowptr"].data, rowptr, "{what}");
    let text: Vec<f64> = a.text.iter().map(|&b| b as f64).collect();
    assert_eq!(got["params"].data, text, "{what}");
}

#[test]
fn zip64_archives_read_back_through_memory_and_file() {
    let a = arrays();
    let plain = archive(&a, None);
    let forced = archive(&a, Some(0));
    // Small archives keep the plain layout, byte for byte as before zip64.
    assert!(!plain.windows(4).any(|w| w == 0x0606_4b50u32.to_le_bytes()));
    assert!(forced.windows(4).any(|w| w == 0x0606_4b50u32.to_le_bytes()));
    // Under zip64 the plain end record's directory size and offset say
    // "see the zip64 record" (APPNOTE 4.4.1.4), for readers that look there.
    let tail = &forced[forced.len() - 22..];
    assert_eq!(tail[12..20], [0xff; 8]);
    check_ours(&plain, &a, "plain");
    check_ours(&forced, &a, "zip64 everywhere");
    // Offsets past the threshold only (the first entries keep 32-bit
    // fields, the later ones and the directory take zip64's).
    let mixed = archive(&a, Some(100_000));
    assert_ne!(mixed, forced);
    check_ours(&mixed, &a, "zip64 past 100,000 bytes");

    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in [("plain", &plain), ("forced", &forced), ("mixed", &mixed)] {
        let path = dir.path().join(format!("{name}.npz"));
        std::fs::write(&path, bytes).unwrap();
        let z = NpzReader::open(&path).unwrap();
        let coords = z.array("coords").unwrap().unwrap();
        assert_eq!(coords.data, a.f, "{name} from the file");
        assert!(z.has("p_colidx") && z.has("params"));
    }
}

#[test]
fn damaged_zip64_records_are_errors() {
    let a = arrays();
    let forced = archive(&a, Some(0));
    let sig = 0x0606_4b50u32.to_le_bytes();
    let at = forced.windows(4).rposition(|w| w == sig).unwrap();
    // The zip64 end record's directory offset pointing past the file.
    let mut bad = forced.clone();
    bad[at + 48..at + 56].copy_from_slice(&(forced.len() as u64 * 2).to_le_bytes());
    // The locator pointing at no zip64 record.
    let mut lost = forced.clone();
    let loc = forced
        .windows(4)
        .rposition(|w| w == 0x0706_4b50u32.to_le_bytes())
        .unwrap();
    lost[loc + 8..loc + 16].copy_from_slice(&1u64.to_le_bytes());
    // A zip64 size in the directory larger than the file.
    let mut huge = forced.clone();
    let cd = u64::from_le_bytes(forced[at + 48..at + 56].try_into().unwrap()) as usize;
    let name_len = u16::from_le_bytes([forced[cd + 28], forced[cd + 29]]) as usize;
    let extra = cd + 46 + name_len + 4;
    for k in [extra, extra + 8] {
        huge[k..k + 8].copy_from_slice(&(1u64 << 40).to_le_bytes());
    }
    for (what, bytes) in [("offset", bad), ("locator", lost), ("size", huge)] {
        let e = read_npz(&bytes, Path::new("t.npz"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("t.npz") && e.contains("not a valid .npz archive"),
            "{what}: {e}"
        );
    }
}

/// Python's `zipfile` (which `numpy.load` opens archives with) reads every
/// layout: CRCs, sizes, and the values, parsed with the standard library.
#[test]
fn python_reads_zip64_archives() {
    let a = arrays();
    let dir = tempfile::tempdir().unwrap();
    let script = r#"
import sys, zipfile, array, ast
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
codes = {"<f8": "d", "<i8": "q", "<i4": "i", "|u1": "B"}
for info in z.infolist():
    b = z.read(info)
    assert b[:6] == b"\x93NUMPY", info.filename
    hlen = int.from_bytes(b[8:10], "little")
    head = ast.literal_eval(b[10:10 + hlen].decode())
    vals = array.array(codes[head["descr"]])
    vals.frombytes(b[10 + hlen:])
    print(info.filename, info.file_size, head["shape"], repr(sum(vals)), vals[0], vals[-1])
"#;
    // The same lines, computed here: name, entry size, shape, sum
    // (Python's left-to-right float sum), first and last value.
    let r = NpzReader::from_bytes(archive(&a, None).into(), Path::new("t.npz")).unwrap();
    let expected: Vec<String> = ["params", "coords", "p_rowptr", "p_colidx", "search_graph"]
        .iter()
        .map(|key| {
            let size = r.bytes(key).unwrap().unwrap().len();
            let arr = r.array(key).unwrap().unwrap();
            let shape = match arr.shape.len() {
                1 => format!("({},)", arr.shape[0]),
                _ => format!("({}, {})", arr.shape[0], arr.shape[1]),
            };
            let fl = *key == "coords";
            let num = |v: f64| {
                if fl {
                    format!("{v:?}")
                } else {
                    format!("{}", v as i64)
                }
            };
            let sum = if fl {
                format!("{:?}", arr.data.iter().sum::<f64>())
            } else {
                format!("{}", arr.data.iter().map(|&v| v as i64).sum::<i64>())
            };
            format!(
                "{key}.npy {size} {shape} {sum} {} {}",
                num(arr.data[0]),
                num(*arr.data.last().unwrap())
            )
        })
        .collect();
    for (name, t) in [
        ("plain", None),
        ("forced", Some(0)),
        ("mixed", Some(100_000)),
    ] {
        let path = dir.path().join(format!("{name}.npz"));
        std::fs::write(&path, archive(&a, t)).unwrap();
        let out = Command::new("python3")
            .arg("-c")
            .arg(script)
            .arg(&path)
            .output()
            .expect("python3 must be installed to check the archives");
        assert!(
            out.status.success(),
            "{name}: python3 failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let got: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
        assert_eq!(got, expected, "{name}");
    }
}
