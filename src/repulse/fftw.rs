//! The system's single-precision FFTW 3 behind [`LineFft`] (cargo feature
//! `fftw`; needs `libfftw3-dev` or the like at build time).
//!
//! This is the crate's one FFI module. Its invariants:
//! - FFTW's planner (plan creation and destruction, wisdom) is not thread
//!   safe: every call to it holds [`PLANNER`]. `fftwf_execute_dft` on an
//!   existing plan is thread safe, so transforms run from many threads.
//! - A plan made on arrays of one alignment may only execute on arrays of
//!   the same alignment (FFTW's new-array rule): each batch size has a plan
//!   for aligned arrays and one made with FFTW_UNALIGNED, chosen per call by
//!   `fftwf_alignment_of`.
//! - Plans are made on scratch arrays of our own (MEASURE overwrites them),
//!   in place, with the exact batch geometry they are executed with; `process`
//!   checks the lengths before any pointer reaches FFTW.
//! - `Complex<f32>` is `#[repr(C)]` {re, im}: FFTW's `fftwf_complex`.
//!
//! The safe rustfft path stays the reference: tests compare the two.

use std::ffi::{c_int, c_uint, c_void, CString};
use std::sync::{Mutex, Once};

use rustfft::num_complex::Complex32 as C32;

use super::fft::LineFft;

#[repr(C)]
struct PlanS {
    _private: [u8; 0],
}
type Plan = *mut PlanS;

const FFTW_FORWARD: c_int = -1;
const FFTW_BACKWARD: c_int = 1;
const FFTW_MEASURE: c_uint = 0;
const FFTW_UNALIGNED: c_uint = 1 << 1;
const FFTW_ESTIMATE: c_uint = 1 << 6;
const FFTW_PATIENT: c_uint = 1 << 5;

#[link(name = "fftw3f")]
extern "C" {
    #[allow(clippy::too_many_arguments)]
    fn fftwf_plan_many_dft(
        rank: c_int,
        n: *const c_int,
        howmany: c_int,
        inp: *mut C32,
        inembed: *const c_int,
        istride: c_int,
        idist: c_int,
        out: *mut C32,
        onembed: *const c_int,
        ostride: c_int,
        odist: c_int,
        sign: c_int,
        flags: c_uint,
    ) -> Plan;
    fn fftwf_execute_dft(p: Plan, inp: *mut C32, out: *mut C32);
    fn fftwf_destroy_plan(p: Plan);
    fn fftwf_alignment_of(p: *mut f32) -> c_int;
    fn fftwf_malloc(n: usize) -> *mut c_void;
    fn fftwf_free(p: *mut c_void);
    fn fftwf_import_wisdom_from_filename(name: *const std::ffi::c_char) -> c_int;
    fn fftwf_export_wisdom_to_filename(name: *const std::ffi::c_char) -> c_int;
}

/// Held around every call into FFTW's planner.
static PLANNER: Mutex<()> = Mutex::new(());
static WISDOM_IN: Once = Once::new();

/// Lines per batched plan: the convolution's tiles hold 32 lines.
const BATCH: usize = 32;

fn planner_flags() -> c_uint {
    match std::env::var("SGTSNE_FFTW_PLANNER").as_deref() {
        Ok("estimate") => FFTW_ESTIMATE,
        Ok("patient") => FFTW_PATIENT,
        _ => FFTW_MEASURE,
    }
}

fn wisdom_file() -> Option<CString> {
    let p = std::env::var_os("SGTSNE_FFTW_WISDOM")?;
    CString::new(p.into_encoded_bytes()).ok()
}

struct RawPlan(Plan);
// SAFETY: FFTW documents fftw_execute_dft on a shared plan as thread safe;
// the plan is only destroyed in Drop, under the planner lock.
unsafe impl Send for RawPlan {}
unsafe impl Sync for RawPlan {}

impl Drop for RawPlan {
    fn drop(&mut self) {
        let _g = PLANNER.lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY: a non-null plan from fftwf_plan_many_dft, destroyed once.
        unsafe { fftwf_destroy_plan(self.0) }
    }
}

/// Makes an in-place plan for `howmany` consecutive lines of `len` points.
fn make_plan(len: usize, howmany: usize, sign: c_int, unaligned: bool) -> RawPlan {
    let _g = PLANNER.lock().unwrap_or_else(|e| e.into_inner());
    WISDOM_IN.call_once(|| {
        if let Some(f) = wisdom_file() {
            // SAFETY: a valid C string; a missing file just returns 0.
            unsafe { fftwf_import_wisdom_from_filename(f.as_ptr()) };
        }
    });
    let total = len * howmany;
    // SAFETY: fftwf_malloc returns memory aligned for FFTW's SIMD, or null
    // (checked); it is freed below after planning.
    let buf = unsafe { fftwf_malloc(total.max(1) * std::mem::size_of::<C32>()) } as *mut C32;
    assert!(!buf.is_null(), "fftwf_malloc failed");
    let n = [len as c_int];
    let mut flags = planner_flags();
    if unaligned {
        flags |= FFTW_UNALIGNED;
    }
    // SAFETY: buf holds `total` complex values; the geometry (rank 1, unit
    // stride, distance len, howmany lines) stays within it; in place.
    let p = unsafe {
        fftwf_plan_many_dft(
            1,
            n.as_ptr(),
            howmany as c_int,
            buf,
            std::ptr::null(),
            1,
            len as c_int,
            buf,
            std::ptr::null(),
            1,
            len as c_int,
            sign,
            flags,
        )
    };
    // SAFETY: allocated by fftwf_malloc above.
    unsafe { fftwf_free(buf as *mut c_void) };
    assert!(!p.is_null(), "FFTW could not plan a length-{len} transform");
    if let Some(f) = wisdom_file() {
        // SAFETY: a valid C string; failure to write is harmless.
        unsafe { fftwf_export_wisdom_to_filename(f.as_ptr()) };
    }
    RawPlan(p)
}

/// One direction of length-`len` transforms.
pub struct FftwLines {
    len: usize,
    /// [one line, BATCH lines] × [aligned, unaligned].
    plans: [[RawPlan; 2]; 2],
}

impl FftwLines {
    pub fn new(len: usize, forward: bool) -> Self {
        assert!(len > 0 && len <= c_int::MAX as usize / BATCH);
        let sign = if forward { FFTW_FORWARD } else { FFTW_BACKWARD };
        let mk = |h| {
            [
                make_plan(len, h, sign, false),
                make_plan(len, h, sign, true),
            ]
        };
        FftwLines {
            len,
            plans: [mk(1), mk(BATCH)],
        }
    }

    fn run(&self, batched: bool, lines: &mut [C32]) {
        debug_assert_eq!(lines.len(), self.len * if batched { BATCH } else { 1 });
        let p = lines.as_mut_ptr();
        // SAFETY: p points at `lines`, whose length matches the plan's
        // geometry (checked by the callers below); the aligned plan only
        // runs where FFTW reports the same alignment as its planning array.
        unsafe {
            let aligned = fftwf_alignment_of(p as *mut f32) == 0;
            let plan = &self.plans[batched as usize][!aligned as usize];
            fftwf_execute_dft(plan.0, p, p);
        }
    }
}

impl LineFft for FftwLines {
    fn process(&self, buf: &mut [C32], _scratch: &mut [C32]) {
        assert_eq!(buf.len() % self.len, 0, "buffer is not whole lines");
        let mut groups = buf.chunks_exact_mut(self.len * BATCH);
        for g in &mut groups {
            self.run(true, g);
        }
        for line in groups.into_remainder().chunks_exact_mut(self.len) {
            self.run(false, line);
        }
    }
    fn scratch_len(&self) -> usize {
        0
    }
}
