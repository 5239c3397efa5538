//! bh_tsne's data.dat reader.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    if let Ok(job) = sgtsne::io::bhtsne::parse_data_dat(data, Path::new("data.dat")) {
        assert!(job.points.as_slice().iter().all(|v| v.is_finite()));
        assert!((1..=3).contains(&job.no_dims));
    }
});
