//! Pictures: the PNG plot, the HTML viewer (in a real headless browser),
//! labels, and their errors.

use crate::common;

use std::path::Path;
use std::process::Command;

use common::run;
use sgtsne::util::Rng;

/// Points in `k` blobs and their labels ("class-3" style or numbers).
fn write_blobs(dir: &Path, n: usize, d: usize, k: usize, numeric: bool) {
    let mut rng = Rng::new(7);
    let centres: Vec<Vec<f64>> = (0..k)
        .map(|_| (0..d).map(|_| 8.0 * rng.normal()).collect())
        .collect();
    let mut pts = String::new();
    let mut labels = String::new();
    for i in 0..n {
        let c = i % k;
        let row: Vec<String> = centres[c]
            .iter()
            .map(|m| format!("{}", m + rng.normal()))
            .collect();
        pts += &row.join(" ");
        pts += "\n";
        labels += &if numeric {
            format!("{}\n", c as f64 * 0.5)
        } else {
            format!("class-{c}\n")
        };
    }
    std::fs::write(dir.join("p.txt"), pts).unwrap();
    std::fs::write(dir.join("labels.txt"), labels).unwrap();
}

fn decode_png(path: &Path) -> (u32, u32, Vec<u8>) {
    let dec = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut r = dec.read_info().unwrap();
    let mut buf = vec![0; r.output_buffer_size().unwrap()];
    let info = r.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

fn distinct_colours(rgb: &[u8], stride: usize) -> usize {
    let mut s: Vec<[u8; 3]> = rgb
        .chunks_exact(stride)
        .map(|c| [c[0], c[1], c[2]])
        .collect();
    s.sort_unstable();
    s.dedup();
    s.len()
}

#[test]
fn png_plots_in_every_dimension_with_and_without_labels() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_blobs(d, 400, 6, 5, false);
    // (dim, labels?, expected width, expected height)
    for (dim, lab, w, h) in [
        ("2", true, 900 + 280, 940),
        ("2", false, 900, 940),
        ("3", true, 3 * 640 + 280, 680),
        ("1", true, 1200 + 280, 5 * 120 + 28 + 40),
    ] {
        let mut args = vec![
            "p.txt",
            "--perplexity",
            "10",
            "-m",
            "150",
            "-q",
            "--dim",
            dim,
            "-o",
            "y.txt",
            "--plot",
            "y.png",
        ];
        if lab {
            args.extend(["--labels", "labels.txt"]);
        }
        let o = run(&args, d);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let (pw, ph, px) = decode_png(&d.join("y.png"));
        assert_eq!((pw, ph), (w, h), "dim {dim} labels {lab}");
        let n = distinct_colours(&px, 3);
        assert!(
            n > (if lab { 20 } else { 5 }),
            "dim {dim}: only {n} colours"
        );
    }
}

#[test]
fn many_labels_and_accuracy_report() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // 45 classes: more than the palette; strings repeat colours, numbers get a colour map.
    for numeric in [false, true] {
        write_blobs(d, 450, 8, 45, numeric);
        let o = run(
            &[
                "p.txt",
                "--perplexity",
                "5",
                "-m",
                "300",
                "--labels",
                "labels.txt",
                "--plot",
                "y.png",
                "--html",
                "y.html",
                "-o",
                "y.txt",
            ],
            d,
        );
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{err}");
        let acc: f64 = err
            .lines()
            .find_map(|l| l.strip_prefix("10-NN label accuracy of the embedding: "))
            .expect("accuracy line")
            .parse()
            .unwrap();
        // Well-separated blobs: the embedding keeps neighbours within their class.
        assert!(acc > 0.9, "accuracy {acc}");
        let (_, _, px) = decode_png(&d.join("y.png"));
        assert!(distinct_colours(&px, 3) > 30);
    }
}

#[test]
fn bad_labels_file_exits_2_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_blobs(d, 100, 3, 2, false);
    std::fs::write(d.join("short.txt"), "a\nb\nc\n").unwrap();
    let o = run(
        &[
            "p.txt",
            "--perplexity",
            "5",
            "--labels",
            "short.txt",
            "--plot",
            "y.png",
            "-o",
            "y.txt",
        ],
        d,
    );
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("short.txt") && err.contains("3 labels for 100 vertices"),
        "{err}"
    );
    assert!(!d.join("y.txt").exists() && !d.join("y.png").exists());
}

fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| {
            Command::new(b)
                .arg("--version")
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false)
        })
}

#[test]
fn html_viewer_loads_in_a_headless_browser() {
    let Some(browser) = chromium() else {
        common::cannot_run(
            "html_viewer_loads_in_a_headless_browser",
            "no chromium on this machine (apt-get install chromium)",
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_blobs(d, 600, 5, 4, false);
    for dim in ["2", "3"] {
        let o = run(
            &[
                "p.txt",
                "--perplexity",
                "10",
                "-m",
                "200",
                "-q",
                "--dim",
                dim,
                "--labels",
                "labels.txt",
                "--html",
                "v.html",
                "-o",
                "y.txt",
            ],
            d,
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let page = std::fs::read_to_string(d.join("v.html")).unwrap();
        assert!(
            !page.contains("http://") && !page.contains("https://"),
            "the page refers to the network"
        );
        let url = format!("file://{}", d.join("v.html").display());
        let profile = tempfile::tempdir().unwrap();
        let flags = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=900,700",
            "--virtual-time-budget=5000",
        ];
        let dom = Command::new(browser)
            .args(flags)
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("--dump-dom")
            .arg(&url)
            .output()
            .unwrap();
        let html = String::from_utf8_lossy(&dom.stdout);
        let log = String::from_utf8_lossy(&dom.stderr);
        assert!(
            html.contains("data-ready=\"1\""),
            "dim {dim}: the script did not finish; browser log:\n{log}"
        );
        assert!(html.contains("data-points=\"600\""), "dim {dim}");
        let console_errors: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("CONSOLE") && (l.contains("Uncaught") || l.contains("Error")))
            .collect();
        assert!(
            console_errors.is_empty(),
            "dim {dim}: console errors:\n{}",
            console_errors.join("\n")
        );
        let shot = d.join(format!("shot{dim}.png"));
        let s = Command::new(browser)
            .args(flags)
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(format!("--screenshot={}", shot.display()))
            .arg(&url)
            .output()
            .unwrap();
        assert!(
            shot.exists(),
            "no screenshot: {}",
            String::from_utf8_lossy(&s.stderr)
        );
        let (_, _, px) = decode_png(&shot);
        let stride = px.len() / (900 * 700);
        assert!(
            distinct_colours(&px, stride) > 10,
            "dim {dim}: the screenshot is blank"
        );
    }
}
