//! Batched one-dimensional FFTs of f32 complex lines: the only transform the
//! convolution needs. rustfft is the default (pure Rust, runtime SIMD
//! detection); with the `fftw` cargo feature the system's single-precision
//! FFTW 3 can serve instead (the plan's `fft` option; the command line
//! reads `SGTSNE_FFT=fftw|rustfft`, configure.md).

use std::sync::Arc;

use rustfft::num_complex::Complex32 as C32;
use rustfft::{Fft, FftPlanner};

/// In-place transforms of every `len()`-point line of a buffer.
pub trait LineFft: Send + Sync {
    /// Transforms `buf.len() / len()` consecutive lines in place
    /// (unnormalised; the inverse has the + sign).
    fn process(&self, buf: &mut [C32], scratch: &mut [C32]);
    /// Scratch length `process` needs.
    fn scratch_len(&self) -> usize;
}

impl LineFft for Arc<dyn Fft<f32>> {
    fn process(&self, buf: &mut [C32], scratch: &mut [C32]) {
        self.process_with_scratch(buf, &mut scratch[..self.get_inplace_scratch_len()]);
    }
    fn scratch_len(&self) -> usize {
        self.get_inplace_scratch_len()
    }
}

/// Which library computes the transforms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Backend {
    RustFft,
    #[cfg(feature = "fftw")]
    Fftw,
}

impl Default for Backend {
    /// rustfft, or FFTW in a build with the `fftw` feature (configure.md).
    fn default() -> Backend {
        #[cfg(feature = "fftw")]
        {
            Backend::Fftw
        }
        #[cfg(not(feature = "fftw"))]
        {
            Backend::RustFft
        }
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::RustFft => "rustfft",
            #[cfg(feature = "fftw")]
            Backend::Fftw => "fftw",
        })
    }
}

impl std::str::FromStr for Backend {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "rustfft" => Ok(Backend::RustFft),
            #[cfg(feature = "fftw")]
            "fftw" => Ok(Backend::Fftw),
            #[cfg(not(feature = "fftw"))]
            "fftw" => Err("this build has no FFTW (built without the 'fftw' feature)".into()),
            _ => Err(format!(
                "unknown FFT backend '{s}': expected rustfft or fftw"
            )),
        }
    }
}

/// Plans forward and inverse transforms of length `m`; build once per size.
pub struct Planner {
    backend: Backend,
    rust: FftPlanner<f32>,
}

impl Planner {
    pub fn new() -> Self {
        Self::with_backend(Backend::default())
    }

    pub fn with_backend(backend: Backend) -> Self {
        Planner {
            backend,
            rust: FftPlanner::new(),
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn plan(&mut self, m: usize) -> (Arc<dyn LineFft>, Arc<dyn LineFft>) {
        match self.backend {
            Backend::RustFft => (
                Arc::new(self.rust.plan_fft_forward(m)),
                Arc::new(self.rust.plan_fft_inverse(m)),
            ),
            #[cfg(feature = "fftw")]
            Backend::Fftw => (
                Arc::new(super::fftw::FftwLines::new(m, true)),
                Arc::new(super::fftw::FftwLines::new(m, false)),
            ),
        }
    }
}

impl Default for Planner {
    fn default() -> Self {
        Self::new()
    }
}
