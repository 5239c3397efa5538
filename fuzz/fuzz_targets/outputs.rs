//! Output paths: the checks that an output is neither an input nor another
//! output (`check_distinct`), and writing all outputs or none (`Outputs`),
//! on a fresh sandbox directory of regular files, directories and
//! symlinks (relative, chained, dangling, to directories) that the input
//! bytes lay out. Invariants: inputs never change; after a commit each
//! output reads back what was written to it and symlinks are still
//! symlinks; after any failure the sandbox is exactly as before; no
//! temporary is ever left behind.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sgtsne::io::output::{check_distinct, Outputs};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Names the layout and the paths are made of: nested, long (two that
/// agree in their first 230 bytes), spelled through `.` and `..`, inside a
/// missing directory, and one with the shape of a temporary.
fn pool() -> Vec<String> {
    let long = "x".repeat(230);
    vec![
        "a.txt".into(),
        "b.txt".into(),
        "sub/c.txt".into(),
        "link".into(),
        "sub/link2".into(),
        format!("{long}1"),
        format!("{long}2"),
        "sub".into(),
        "dlink".into(),
        "missing/d.txt".into(),
        "e.txt.gz".into(),
        format!(".a.txt.tmp-{}", std::process::id()),
    ]
}

/// Other spellings of the same name.
fn spell(name: &str, how: u8) -> String {
    match how % 4 {
        0 => name.to_string(),
        1 => format!("./{name}"),
        2 => format!("sub/../{name}"),
        _ => format!("sub//..//{name}"),
    }
}

/// Every entry under `dir`: relative path -> (kind, bytes or link text).
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (char, Vec<u8>)> {
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(dir).unwrap().to_path_buf();
            let m = std::fs::symlink_metadata(&p).unwrap();
            let entry = if m.file_type().is_symlink() {
                let t = std::fs::read_link(&p).unwrap();
                ('l', t.into_os_string().into_encoded_bytes())
            } else if m.is_dir() {
                todo.push(p.clone());
                ('d', vec![])
            } else {
                ('f', std::fs::read(&p).unwrap())
            };
            out.insert(rel, entry);
        }
    }
    out
}

static RUN: AtomicUsize = AtomicUsize::new(0);

fuzz_target!(|data: &[u8]| {
    let names = pool();
    let mut bytes = data.iter().copied();
    let mut next = move || bytes.next().unwrap_or(0);
    let root = std::env::temp_dir().join(format!(
        "sgtsne-fuzz-outputs-{}-{}",
        std::process::id(),
        RUN.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("sub")).unwrap();

    // The layout: each name absent, a file, a directory or a symlink to
    // another name (relative to the link's own directory).
    for (i, name) in names.iter().enumerate() {
        let p = root.join(name);
        if name == "sub" || name.starts_with("missing/") {
            continue;
        }
        match next() % 5 {
            0 | 1 => {}
            2 => std::fs::write(&p, format!("original {i}")).unwrap(),
            3 => {
                let _ = std::fs::create_dir(&p);
            }
            _ => {
                let to = &names[next() as usize % names.len()];
                let up = if name.starts_with("sub/") { "../" } else { "" };
                let _ = std::os::unix::fs::symlink(format!("{up}{to}"), &p);
            }
        }
    }
    let before = snapshot(&root);
    let links: Vec<PathBuf> = before
        .iter()
        .filter(|(_, (k, _))| *k == 'l')
        .map(|(p, _)| p.clone())
        .collect();

    let pick = |b: u8, c: u8| root.join(spell(&names[b as usize % names.len()], c));
    let inputs: Vec<PathBuf> = (0..next() % 3).map(|_| pick(next(), next())).collect();
    let outputs: Vec<(PathBuf, bool)> = (0..1 + next() % 3)
        .map(|_| (pick(next(), next()), next() % 8 == 0))
        .collect();
    // What each input holds now (inputs that are regular files through
    // their links).
    let held: Vec<Option<Vec<u8>>> = inputs.iter().map(|p| std::fs::read(p).ok()).collect();

    let roles = ["-o", "--plot", "--html"];
    let outs: Vec<(&str, &Path)> = outputs
        .iter()
        .enumerate()
        .map(|(i, (p, _))| (roles[i], p.as_path()))
        .collect();
    let ins: Vec<(&str, &Path)> = inputs.iter().map(|p| ("the input", p.as_path())).collect();

    let mut committed = false;
    if check_distinct(&outs, &ins).is_ok() {
        let mut staged = Outputs::new();
        let mut ok = true;
        for (i, (p, fail)) in outputs.iter().enumerate() {
            let fail = *fail;
            let r = staged.add(p, |w| {
                w.write_all(format!("output {i}").as_bytes())?;
                if fail {
                    return Err(std::io::Error::other("planted failure"));
                }
                Ok(())
            });
            if r.is_err() {
                ok = false;
                break;
            }
        }
        if ok {
            committed = staged.commit().is_ok();
        } else {
            drop(staged);
        }
    }

    let after = snapshot(&root);
    for (p, was) in inputs.iter().zip(&held) {
        if let Some(was) = was {
            assert_eq!(
                std::fs::read(p).ok().as_ref(),
                Some(was),
                "input {p:?} changed"
            );
        }
    }
    // Temporaries are `.NAME.tmp-PID-K`; the pool's own `.a.txt.tmp-PID`
    // is an ordinary name (it may be an output).
    let tmp = format!(".tmp-{}-", std::process::id());
    assert!(
        !after
            .keys()
            .any(|p| p.to_string_lossy().contains(&tmp) && !before.contains_key(p)),
        "a temporary was left behind: {after:?}"
    );
    if committed {
        for (i, (p, _)) in outputs.iter().enumerate() {
            assert_eq!(
                std::fs::read(p).unwrap(),
                format!("output {i}").as_bytes(),
                "output {i} at {p:?}"
            );
        }
        for l in &links {
            assert_eq!(
                after.get(l).map(|e| e.0),
                Some('l'),
                "{l:?} is no longer a link: before {before:?}, outputs {outputs:?}"
            );
        }
    } else {
        assert_eq!(
            before, after,
            "a failed or refused write changed the sandbox"
        );
    }
    let _ = std::fs::remove_dir_all(&root);
});
