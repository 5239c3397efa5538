//! Outputs never destroy inputs or special files (issue 15, class 2): the
//! binary as a process under an address-space limit, real files.

use crate::common;
use common::names;

use std::path::Path;
use std::process::{Command, Output};

use common::example;

fn run(args: &[&str], dir: &Path) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 2000000 && exec \"$0\" \"$@\"")
        .arg(common::bin())
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run sgtsne")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A directory with the example graph as g.mtx.gz, labels, a start, points,
/// and a saved model.
fn setup() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    std::fs::copy(example(), p.join("g.mtx.gz")).unwrap();
    let labels: String = (0..2000).map(|i| format!("{}\n", i % 3)).collect();
    std::fs::write(p.join("labels.txt"), labels).unwrap();
    let init: String = (0..2000)
        .map(|i| format!("{} {}\n", i % 7, i % 5))
        .collect();
    std::fs::write(p.join("init.txt"), init).unwrap();
    let pts: String = (0..200)
        .map(|i| format!("{} {} {}\n", i % 7, i % 11, i % 13))
        .collect();
    std::fs::write(p.join("p.csv"), pts.replace(' ', ",")).unwrap();
    let o = run(
        &[
            "p.csv", "-m", "20", "--save", "m.npz", "-o", "fit.txt", "-q",
        ],
        p,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    std::os::unix::fs::symlink("g.mtx.gz", p.join("link.mtx.gz")).unwrap();
    d
}

fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.is_symlink())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn an_output_that_is_an_input_or_another_output_is_refused_before_any_work() {
    let d = setup();
    let p = d.path();
    let cases: &[(&[&str], &str)] = &[
        (
            &["g.mtx.gz", "-o", "g.mtx.gz"],
            "-o g.mtx.gz is the input g.mtx.gz",
        ),
        (&["g.mtx.gz", "-o", "./g.mtx.gz"], "is the input"),
        (&["g.mtx.gz", "-o", "link.mtx.gz"], "is the input"),
        (&["link.mtx.gz", "-o", "g.mtx.gz"], "is the input"),
        (
            &["g.mtx.gz", "--plot", "g.mtx.gz"],
            "--plot g.mtx.gz is the input",
        ),
        (
            &["g.mtx.gz", "--html", "g.mtx.gz"],
            "--html g.mtx.gz is the input",
        ),
        (
            &["g.mtx.gz", "--labels", "labels.txt", "-o", "labels.txt"],
            "is the --labels file",
        ),
        (
            &["g.mtx.gz", "--init", "init.txt", "-o", "init.txt"],
            "is the --init file",
        ),
        (
            &["g.mtx.gz", "-o", "a.txt", "--plot", "a.txt"],
            "-o a.txt and --plot a.txt are the same file",
        ),
        (
            &["g.mtx.gz", "-o", "a.txt", "--save", "./a.txt"],
            "are the same file",
        ),
        (
            &["g.mtx.gz", "-o", "-", "--plot", "-"],
            "both write to standard output",
        ),
        (
            &["graph", "p.csv", "-o", "p.csv"],
            "-o p.csv is the input p.csv",
        ),
        (
            &["transform", "m.npz", "p.csv", "-o", "m.npz"],
            "-o m.npz is the model m.npz",
        ),
        (
            &["transform", "m.npz", "p.csv", "-o", "p.csv"],
            "is the input",
        ),
        (
            &["resume", "m.npz", "-o", "r.txt", "--save", "m.npz"],
            "--save m.npz is the model",
        ),
        (&["resume", "m.npz", "-o", "m.npz"], "is the model"),
    ];
    for (args, want) in cases {
        let before = snapshot(p);
        let o = run(args, p);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(o.stdout.is_empty(), "{args:?}: wrote to stdout");
        assert_eq!(snapshot(p), before, "{args:?}: files changed");
    }
}

#[test]
fn special_files_are_written_through_and_links_kept() {
    let d = setup();
    let p = d.path();
    // A FIFO stays a FIFO and its reader gets the rows.
    assert!(Command::new("mkfifo")
        .arg(p.join("fifo"))
        .status()
        .unwrap()
        .success());
    let fifo = p.join("fifo");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(std::fs::read_to_string(fifo).unwrap()));
    let o = run(&["g.mtx.gz", "-m", "10", "-o", "fifo", "-q"], p);
    assert!(o.status.success(), "{}", stderr(&o));
    // Were the FIFO replaced by a file, its reader would wait forever.
    let rows = rx
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("the FIFO's reader got nothing");
    assert_eq!(rows.lines().count(), 2000);
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::metadata(p.join("fifo"))
        .unwrap()
        .file_type()
        .is_fifo());
    // A symlink to a file keeps pointing at it; the file gets the rows.
    std::fs::write(p.join("real.txt"), "old").unwrap();
    std::os::unix::fs::symlink("real.txt", p.join("out.txt")).unwrap();
    let o = run(&["g.mtx.gz", "-m", "10", "-o", "out.txt", "-q"], p);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::symlink_metadata(p.join("out.txt"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        std::fs::read_to_string(p.join("real.txt"))
            .unwrap()
            .lines()
            .count(),
        2000
    );
    // A character device (a null device of our own, never the system's)
    // stays a device.
    let made = Command::new("mknod")
        .args(["nul", "c", "1", "3"])
        .current_dir(p)
        .status()
        .is_ok_and(|s| s.success());
    if !made {
        common::cannot_run(
            "special_files_are_written_through_and_links_kept",
            "mknod needs root (CAP_MKNOD) for the device case",
        );
        return;
    }
    let o = run(&["g.mtx.gz", "-m", "10", "-o", "nul", "-q"], p);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::metadata(p.join("nul"))
        .unwrap()
        .file_type()
        .is_char_device());
}

#[test]
fn a_long_output_name_works_and_leaves_no_temporary() {
    let d = setup();
    let p = d.path();
    let name = format!("{}.txt", "x".repeat(245));
    let o = run(&["g.mtx.gz", "-m", "10", "-o", &name, "-q"], p);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(p.join(&name))
            .unwrap()
            .lines()
            .count(),
        2000
    );
    let left: Vec<_> = std::fs::read_dir(p)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// `-o NAME.gz` writes gzip of the format before the `.gz`.
#[test]
fn a_gz_output_is_compressed() {
    use std::io::Read;
    let d = setup();
    let p = d.path();
    for (plain, packed) in [("e.txt", "e.txt.gz"), ("e.csv", "e.CSV.GZ")] {
        for out in [plain, packed] {
            let o = run(&["g.mtx.gz", "-m", "10", "-o", out, "-q"], p);
            assert!(o.status.success(), "{}", stderr(&o));
        }
        let mut text = Vec::new();
        flate2::read::GzDecoder::new(std::fs::File::open(p.join(packed)).unwrap())
            .read_to_end(&mut text)
            .unwrap();
        assert_eq!(text, std::fs::read(p.join(plain)).unwrap(), "{packed}");
    }
}

/// Outputs go in all together or not at all: a failure while filling the
/// second leaves neither, and no temporary.
#[test]
fn outputs_are_all_or_none() {
    use sgtsne::io::output::Outputs;
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.txt"), dir.path().join("b.png"));
    let mut o = Outputs::new();
    o.add(&a, |w| w.write_all(b"first")).unwrap();
    let e = o
        .add(&b, |w| {
            w.write_all(b"half")?;
            Err(std::io::Error::other("disk full"))
        })
        .unwrap_err();
    assert!(e.to_string().contains("b.png"), "{e}");
    drop(o);
    assert_eq!(names(dir.path()), Vec::<String>::new());

    let mut o = Outputs::new();
    o.add(&a, |w| w.write_all(b"first")).unwrap();
    o.add(&b, |w| w.write_all(b"second")).unwrap();
    assert!(
        !a.exists() && !b.exists(),
        "nothing in place before the commit"
    );
    o.commit().unwrap();
    assert_eq!(names(dir.path()), vec!["a.txt", "b.png"]);
    assert_eq!(std::fs::read(&b).unwrap(), b"second");
}

/// A file that happens to bear an output's temporary name is never
/// truncated or removed, and two long names sharing their first 200 bytes
/// (where temporary names are cut) each get their own temporary. Found by
/// the `outputs` fuzz target (fuzz/regressions/outputs).
#[test]
fn temporaries_never_clobber_a_file() {
    use sgtsne::io::output::Outputs;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let squatter = p.join(format!(".a.txt.tmp-{}-0", std::process::id()));
    std::fs::write(&squatter, "mine").unwrap();
    let long = "x".repeat(230);
    let (l1, l2) = (p.join(format!("{long}1")), p.join(format!("{long}2")));
    // A failed write leaves the squatter alone ...
    let mut o = Outputs::new();
    o.add(&p.join("a.txt"), |w| w.write_all(b"new")).unwrap();
    assert!(o
        .add(&l1, |_| Err(std::io::Error::other("disk full")))
        .is_err());
    drop(o);
    assert_eq!(std::fs::read(&squatter).unwrap(), b"mine");
    assert_eq!(names(p).len(), 1, "{:?}", names(p));
    // ... and so does a successful one, with both long names intact.
    let mut o = Outputs::new();
    o.add(&p.join("a.txt"), |w| w.write_all(b"new")).unwrap();
    o.add(&l1, |w| w.write_all(b"one")).unwrap();
    o.add(&l2, |w| w.write_all(b"two")).unwrap();
    o.commit().unwrap();
    assert_eq!(std::fs::read(&squatter).unwrap(), b"mine");
    assert_eq!(std::fs::read(p.join("a.txt")).unwrap(), b"new");
    assert_eq!(std::fs::read(&l1).unwrap(), b"one");
    assert_eq!(std::fs::read(&l2).unwrap(), b"two");
    assert_eq!(names(p).len(), 4, "{:?}", names(p));
}

/// An output that is a loop of symlinks is refused with the reason, and
/// the link stays a link (it was once replaced by a regular file). Found
/// by the `outputs` fuzz target (fuzz/regressions/outputs).
#[test]
fn a_symlink_loop_is_refused_and_kept() {
    use sgtsne::io::output::{check_writable, Outputs};
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::create_dir(p.join("sub")).unwrap();
    std::os::unix::fs::symlink("../sub/c.txt", p.join("sub/c.txt")).unwrap();
    let out = p.join("sub/../sub/c.txt");
    // The message as the binary prints it: the error and its cause.
    let chain = |e: sgtsne::Error| {
        let cause = std::error::Error::source(&e).map(|c| c.to_string());
        format!("{e}: {}", cause.unwrap_or_default())
    };
    let e = chain(check_writable(&out).unwrap_err());
    assert!(e.contains("symbolic links"), "{e}");
    let mut o = Outputs::new();
    let e = chain(o.add(&out, |w| w.write_all(b"x")).unwrap_err());
    assert!(e.contains("symbolic links"), "{e}");
    drop(o);
    let m = std::fs::symlink_metadata(p.join("sub/c.txt")).unwrap();
    assert!(m.file_type().is_symlink());
    assert_eq!(names(&p.join("sub")), vec!["c.txt"]);
}

/// What the binary's signal handler calls removes a temporary still being
/// written. `remove_temporaries` removes every temporary of the process,
/// so the check runs alone in a child process of this test binary (other
/// tests here write through the library at the same time).
#[test]
fn an_interrupted_write_leaves_no_temporary() {
    const ALONE: &str = "SGTSNE_TEST_ALONE";
    let Some(dir) = std::env::var_os(ALONE) else {
        let dir = tempfile::tempdir().unwrap();
        let o = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "outputs::an_interrupted_write_leaves_no_temporary",
                "--test-threads=1",
            ])
            .env(ALONE, dir.path())
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(o.status.success(), "{out}");
        assert!(out.contains("1 passed"), "the check did not run: {out}");
        return;
    };
    let dir = Path::new(&dir);
    let out = dir.join("y.txt");
    let r = sgtsne::io::output::write_atomic(&out, |w| {
        w.write_all(b"1 2\n")?;
        w.flush()?;
        assert_eq!(names(dir).len(), 1, "the temporary exists");
        sgtsne::io::output::remove_temporaries();
        Ok(())
    });
    // The rename then finds no temporary: an error, and nothing left.
    assert!(r.is_err());
    assert_eq!(names(dir), Vec::<String>::new());
}

/// A kill mid-run: exit 130, a message, and no output or temporary.
#[test]
fn a_terminated_run_leaves_nothing() {
    let dir = setup();
    let child = Command::new(common::bin())
        .args([
            "g.mtx.gz",
            "--max-iter",
            "1000000",
            "-o",
            "out.txt",
            "--plot",
            "p.png",
        ])
        .current_dir(dir.path())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let before = names(dir.path());
    std::thread::sleep(std::time::Duration::from_millis(1500));
    terminate(child.id());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert!(stderr(&out).contains("interrupted"), "{}", stderr(&out));
    assert_eq!(names(dir.path()), before);
}

/// SIGTERM through the `kill` command (no libc binding in the tests).
fn terminate(pid: u32) {
    let s = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(s.success());
}
