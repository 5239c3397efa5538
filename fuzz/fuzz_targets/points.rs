//! Point readers: .npy and delimited text (plain or gzip), chosen by the
//! first input byte so one corpus covers both.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let r = if sel & 1 == 0 {
        sgtsne::io::points::parse_npy(rest, Path::new("fuzz.npy"))
    } else {
        match sgtsne::io::maybe_gz(rest, Path::new("fuzz.csv")) {
            Ok(reader) => sgtsne::io::points::read_text_from(reader, Path::new("fuzz.csv")),
            Err(e) => Err(e),
        }
    };
    if let Ok(p) = r {
        assert_eq!(p.as_slice().len(), p.n() * p.d());
        assert!(p.as_slice().iter().all(|v| v.is_finite()));
    }
});
