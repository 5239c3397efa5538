//! Matrix Market reader, plain and gzip (the reader detects gzip by its
//! magic bytes), then graph preparation on whatever it accepts.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.mtx");
    if let Ok(coo) = sgtsne::io::mtx::read_matrix_market_from(data, path) {
        // Anything the reader accepts must prepare without panicking
        // (small graphs only, to keep iterations fast).
        if coo.n <= 1 << 16 {
            let _ = sgtsne::graph::StochasticGraph::from_coo(&coo, 1.0);
            let _ = sgtsne::graph::StochasticGraph::from_coo(&coo, 10.0);
        }
    }
});
