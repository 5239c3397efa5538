//! The bad-input catalogue: malformed or hostile inputs across every reader
//! and flag. Each must exit with code 2 and one message naming the file (where
//! there is one) and the problem, without a panic, without leaving any file
//! behind, within bounded time and (under `ulimit -v`) bounded memory.

use crate::common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::bin;

/// Virtual-memory cap for each case (KiB): far below what a header's claim
/// of 10^12 entries would need, far above what honest small inputs need.
const VMEM_KB: u64 = 4 << 20;
const DEADLINE: Duration = Duration::from_secs(30);

struct Case {
    name: &'static str,
    /// File written into the temp dir before the run (name, bytes).
    file: Option<(&'static str, Vec<u8>)>,
    args: Vec<&'static str>,
    /// Substrings the message must contain.
    want: Vec<&'static str>,
}

fn mtx(body: &str) -> Vec<u8> {
    body.as_bytes().to_vec()
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn npy(shape: &str, data: &[u8]) -> Vec<u8> {
    let dict = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}");
    let pad = (64 - (10 + dict.len() + 1) % 64) % 64;
    let mut v = b"\x93NUMPY\x01\x00".to_vec();
    v.extend(((dict.len() + pad + 1) as u16).to_le_bytes());
    v.extend(dict.as_bytes());
    v.extend(vec![b' '; pad]);
    v.push(b'\n');
    v.extend(data);
    v
}

const BANNER: &str = "%%MatrixMarket matrix coordinate real general\n";
const GOOD: &str =
    "%%MatrixMarket matrix coordinate real general\n4 4 4\n2 1 1\n3 2 1\n4 3 1\n1 4 1\n";

fn cases() -> Vec<Case> {
    let mut garbage = Vec::new();
    let mut x: u32 = 12345;
    for _ in 0..4096 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        garbage.push((x >> 16) as u8);
    }
    let good_gz = gz(GOOD.as_bytes());
    let mut corrupt_gz = good_gz.clone();
    for b in corrupt_gz.iter_mut().skip(12).take(20) {
        *b ^= 0x5a;
    }
    let truncated_gz = gz(GOOD.as_bytes())[..20].to_vec();
    let long_line = format!("{BANNER}4 4 1\n1 2 {}\n", "1".repeat(3 << 20));
    let c = |name,
             file: Option<(&'static str, Vec<u8>)>,
             args: &[&'static str],
             want: &[&'static str]| Case {
        name,
        file,
        args: args.to_vec(),
        want: want.to_vec(),
    };
    vec![
        c(
            "empty file",
            Some(("g.mtx", vec![])),
            &["g.mtx"],
            &["g.mtx", "empty"],
        ),
        c(
            "banner only",
            Some(("g.mtx", mtx(BANNER))),
            &["g.mtx"],
            &["g.mtx", "size line"],
        ),
        c(
            "fewer entries than claimed",
            Some(("g.mtx", mtx(&format!("{BANNER}3 3 3\n1 2 1\n")))),
            &["g.mtx"],
            &["g.mtx", "3"],
        ),
        c(
            "more entries than claimed",
            Some(("g.mtx", mtx(&format!("{BANNER}3 3 1\n1 2 1\n2 3 1\n")))),
            &["g.mtx"],
            &["g.mtx:4"],
        ),
        c(
            "index 0",
            Some(("g.mtx", mtx(&format!("{BANNER}3 3 1\n0 2 1\n")))),
            &["g.mtx"],
            &["g.mtx:3", "0"],
        ),
        c(
            "index past N",
            Some(("g.mtx", mtx(&format!("{BANNER}3 3 1\n4 2 1\n")))),
            &["g.mtx"],
            &["g.mtx:3", "4"],
        ),
        c(
            "non-square",
            Some(("g.mtx", mtx(&format!("{BANNER}3 4 1\n1 2 1\n")))),
            &["g.mtx"],
            &["g.mtx:2", "square"],
        ),
        c(
            "NaN weight",
            Some(("g.mtx", mtx(&format!("{BANNER}3 3 1\n1 2 nan\n")))),
            &["g.mtx"],
            &["g.mtx:3"],
        ),
        c(
            "infinite weight",
            Some(("g.mtx", mtx(&format!("{BANNER}3 3 1\n1 2 inf\n")))),
            &["g.mtx"],
            &["g.mtx:3"],
        ),
        c(
            "negative weight",
            Some(("g.mtx", mtx(&format!("{BANNER}3 3 1\n1 2 -1\n")))),
            &["g.mtx"],
            &["g.mtx:3", "negative"],
        ),
        c(
            "missing value",
            Some(("g.mtx", mtx(&format!("{BANNER}3 3 1\n1 2\n")))),
            &["g.mtx"],
            &["g.mtx:3"],
        ),
        c(
            "complex field",
            Some((
                "g.mtx",
                mtx("%%MatrixMarket matrix coordinate complex general\n2 2 1\n1 2 1 0\n"),
            )),
            &["g.mtx"],
            &["g.mtx:1", "complex"],
        ),
        c(
            "array format",
            Some((
                "g.mtx",
                mtx("%%MatrixMarket matrix array real general\n2 2\n1\n2\n3\n4\n"),
            )),
            &["g.mtx"],
            &["g.mtx:1", "array"],
        ),
        c(
            "skew-symmetric",
            Some((
                "g.mtx",
                mtx("%%MatrixMarket matrix coordinate real skew-symmetric\n2 2 1\n2 1 1\n"),
            )),
            &["g.mtx"],
            &["g.mtx:1", "skew"],
        ),
        c(
            "not a banner",
            Some(("g.mtx", mtx("hello world\n1 2 3\n"))),
            &["g.mtx"],
            &["g.mtx:1", "MatrixMarket"],
        ),
        c(
            "binary garbage",
            Some(("g.mtx", garbage.clone())),
            &["g.mtx"],
            &["g.mtx"],
        ),
        c(
            "corrupt gzip",
            Some(("g.mtx.gz", corrupt_gz)),
            &["g.mtx.gz"],
            &["g.mtx.gz"],
        ),
        c(
            "truncated gzip",
            Some(("g.mtx.gz", truncated_gz)),
            &["g.mtx.gz"],
            &["g.mtx.gz"],
        ),
        c(
            "header claims 10^12 entries",
            Some((
                "g.mtx",
                mtx(&format!("{BANNER}1000000 1000000 1000000000000\n1 2 1\n")),
            )),
            &["g.mtx"],
            &["g.mtx", "1000000000000"],
        ),
        c(
            "header claims 10^12 vertices",
            Some((
                "g.mtx",
                mtx(&format!("{BANNER}1000000000000 1000000000000 1\n1 2 1\n")),
            )),
            &["g.mtx"],
            &["g.mtx:2"],
        ),
        c(
            "line of megabytes",
            Some(("g.mtx", long_line.into_bytes())),
            &["g.mtx"],
            &["g.mtx:3", "longer"],
        ),
        c(
            "npy truncated",
            Some(("p.npy", npy("(4, 2)", &[0u8; 40]))),
            &["p.npy"],
            &["p.npy", "truncated"],
        ),
        c(
            "npy claims 10^12 rows",
            Some(("p.npy", npy("(1000000000000, 2)", &[0u8; 16]))),
            &["p.npy", "--perplexity", "5"],
            &["p.npy", "needs"],
        ),
        c(
            "npy garbage",
            Some(("p.npy", garbage.clone())),
            &["p.npy"],
            &["p.npy", "magic"],
        ),
        c(
            "csv ragged",
            Some(("p.csv", b"1,2,3\n4,5,6\n7,8\n".to_vec())),
            &["p.csv"],
            &["p.csv:3"],
        ),
        c(
            "csv NaN",
            Some(("p.csv", b"1,2\n3,NaN\n".to_vec())),
            &["p.csv"],
            &["p.csv:2", "finite"],
        ),
        c(
            "text binary garbage",
            Some(("p.txt", garbage)),
            &["p.txt"],
            &["p.txt:1"],
        ),
        c(
            "data.dat truncated",
            Some(("data.dat", {
                let mut v = vec![0u8; 32];
                v[0] = 10;
                v[4] = 3;
                v
            })),
            &["data.dat"],
            &["data.dat", "truncated"],
        ),
        c(
            "data.dat header whose N·D·8 passes 2^64",
            Some(("data.dat", {
                let mut v = vec![0u8; 40];
                v[0..4].copy_from_slice(&1_073_807_362i32.to_le_bytes());
                v[4..8].copy_from_slice(&2_147_352_580i32.to_le_bytes());
                v
            })),
            &["data.dat"],
            &["data.dat", "more than 2^64"],
        ),
        c(
            "size line of a billion vertices under --max-memory",
            Some((
                "huge.mtx",
                mtx("%%MatrixMarket matrix coordinate real general\n1000000000 1000000000 1\n1 2 1\n"),
            )),
            &["huge.mtx", "--max-memory", "100MB"],
            &["1000000000 vertices", "--max-memory"],
        ),
        c(
            "one vertex",
            Some(("one.mtx", mtx("%%MatrixMarket matrix coordinate real general\n1 1 1\n1 1 1\n"))),
            &["one.mtx"],
            &["need at least 2 vertices, found 1"],
        ),
        c(
            "no edges, only self-loops",
            Some((
                "loops.mtx",
                mtx("%%MatrixMarket matrix coordinate real general\n3 3 2\n1 1 1\n2 2 5\n"),
            )),
            &["loops.mtx"],
            &["3 vertices have no edges"],
        ),
        c("missing input", None, &["nothere.mtx"], &["nothere.mtx"]),
        c(
            "output directory missing",
            Some(("g.mtx", mtx(GOOD))),
            &["g.mtx", "-o", "no/such/dir/out.txt"],
            &["no/such/dir/out.txt"],
        ),
        c(
            "output is a directory",
            Some(("g.mtx", mtx(GOOD))),
            &["g.mtx", "-o", "."],
            &["directory"],
        ),
        c(
            "init with wrong row count",
            Some(("g.mtx", mtx(GOOD))),
            &["g.mtx", "--init", "g.mtx"],
            &["g.mtx"],
        ),
        c(
            "dimension 4",
            Some(("g.mtx", mtx(GOOD))),
            &["g.mtx", "--dim", "4"],
            &["--dim"],
        ),
        c(
            "negative lambda",
            Some(("g.mtx", mtx(GOOD))),
            &["g.mtx", "--lambda", "-1"],
            &["--lambda", "positive"],
        ),
        c(
            "zero eta",
            Some(("g.mtx", mtx(GOOD))),
            &["g.mtx", "--eta", "0"],
            &["eta"],
        ),
        c(
            "memory cap",
            Some(("g.mtx", mtx(GOOD))),
            &["g.mtx", "--max-memory", "1KB"],
            &["needs about", "--max-memory"],
        ),
        c(
            "bad memory size",
            Some(("g.mtx", mtx(GOOD))),
            &["g.mtx", "--max-memory", "lots"],
            &["--max-memory", "lots"],
        ),
        c(
            "exploding step size",
            Some(("g.mtx", mtx(GOOD))),
            &["g.mtx", "--eta", "1e300", "--max-step", "0"],
            &["numerical failure at iteration", "eta"],
        ),
        c(
            "decimal commas",
            Some(("p.csv", b"1,5;2,25\n3,5;4,5\n1,0;2,0\n".to_vec())),
            &["p.csv"],
            &["p.csv:1:", "decimal commas"],
        ),
        c(
            "empty field",
            Some(("p.csv", b"1,2,3\n4,,6\n7,8,9\n".to_vec())),
            &["p.csv"],
            &["p.csv:2:", "field 2 is empty"],
        ),
        c(
            "trailing comma",
            Some(("p.csv", b"1,2,3,\n4,5,6,\n7,8,9,\n".to_vec())),
            &["p.csv"],
            &["p.csv:1:", "trailing"],
        ),
        c(
            "symmetric file with both triangles",
            Some((
                "s.mtx",
                mtx("%%MatrixMarket matrix coordinate real symmetric\n5 5 20\n\
                     2 1 1\n1 2 1\n3 2 1\n2 3 1\n4 3 1\n3 4 1\n5 4 1\n4 5 1\n\
                     3 1 1\n1 3 1\n4 1 1\n1 4 1\n5 1 1\n1 5 1\n4 2 1\n2 4 1\n\
                     5 2 1\n2 5 1\n5 3 1\n3 5 1\n"),
            )),
            &["s.mtx"],
            &["s.mtx:4:", "(1, 2) lies above the diagonal", "line 3"],
        ),
        c(
            "grid too coarse for a tiny graph",
            Some((
                "two.mtx",
                mtx("%%MatrixMarket matrix coordinate real general\n2 2 2\n1 2 1\n2 1 1\n"),
            )),
            &["two.mtx", "--repulsion", "grid", "--grid-h", "10"],
            &["too coarse", "--grid-h", "the default spacing is 0.7"],
        ),
        c(
            "tiny exaggeration, unbounded step",
            Some(("g.mtx", mtx(GOOD))),
            &["g.mtx", "--alpha", "1e-300", "--max-step", "0"],
            &["eta = 4e300 is likely too large"],
        ),
        c(
            "negative step bound",
            Some(("g.mtx", mtx(GOOD))),
            &["g.mtx", "--max-step", "-1"],
            &["--max-step", "-1"],
        ),
        c(
            "perplexity on a graph",
            Some(("g.mtx", mtx(GOOD))),
            &["g.mtx", "--perplexity", "10"],
            &["--perplexity", "g.mtx"],
        ),
    ]
}

fn run_limited(dir: &Path, args: &[&str]) -> (Option<i32>, String, Duration) {
    // `ulimit -v` bounds the address space; exec keeps the pid for the kill.
    let mut script = format!("ulimit -v {VMEM_KB}; exec \"$0\"");
    for i in 0..args.len() {
        script += &format!(" \"${}\"", i + 1);
    }
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(&script)
        .arg(bin())
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let t = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            use std::io::Read;
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            return (status.code(), err, t.elapsed());
        }
        if t.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            return (None, "killed at the deadline".into(), t.elapsed());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn every_bad_input_exits_2_with_one_message_and_no_output() {
    let all = cases();
    assert!(all.len() >= 25);
    let mut failures = Vec::new();
    for case in &all {
        let dir = tempfile::tempdir().unwrap();
        if let Some((name, bytes)) = &case.file {
            std::fs::write(dir.path().join(name), bytes).unwrap();
        }
        let before: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        let mut args = case.args.clone();
        if !args.contains(&"-o") {
            args.extend(["-o", "out.txt"]);
        }
        let (code, err, took) = run_limited(dir.path(), &args);
        let after: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        let mut problems = Vec::new();
        if code != Some(2) {
            problems.push(format!("exit code {code:?}"));
        }
        if err.contains("panicked") || err.contains("RUST_BACKTRACE") {
            problems.push("panic".into());
        }
        let msgs = err
            .lines()
            .filter(|l| l.starts_with("sgtsne: error:") || l.starts_with("error:"))
            .count();
        if msgs != 1 {
            problems.push(format!("{msgs} error messages"));
        }
        for w in &case.want {
            if !err.contains(w) {
                problems.push(format!("message lacks '{w}'"));
            }
        }
        if after.len() != before.len() {
            problems.push(format!("files left behind: {after:?}"));
        }
        if took > DEADLINE {
            problems.push("too slow".into());
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{}: {} -- stderr: {}",
                case.name,
                problems.join(", "),
                err.trim()
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}
