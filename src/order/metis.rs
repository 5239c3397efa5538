//! METIS nested dissection (METIS_NodeND) through `metis-sys`, built from
//! the crate's bundled C source. The only unsafe code of the ordering stage.

use metis_sys as ms;

use super::Permutation;
use crate::error::{Error, Result};
use crate::graph::StochasticGraph;

/// METIS seeds one process-wide random generator at the start of each call
/// and draws from it throughout, so two calls running at once (two
/// sessions on two threads) interleave their draws and get orderings, and
/// so embeddings, that depend on timing. One call at a time keeps every
/// ordering a function of its graph alone (tests/it/session.rs found this).
static METIS_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

pub(crate) fn node_nd(g: &StochasticGraph) -> Result<Permutation> {
    let n = g.n();
    if n <= 2 || g.nnz() == 0 {
        return Ok(Permutation::identity(n));
    }
    if n > i32::MAX as usize || g.nnz() > i32::MAX as usize {
        return Err(Error::Input(format!(
            "graph too large for METIS ({} vertices, {} entries; the limit is {} each): use --order rcm",
            n,
            g.nnz(),
            i32::MAX
        )));
    }
    // The pattern of a StochasticGraph is symmetric with no diagonal and
    // sorted, in-range column indices (its constructors check this): exactly
    // the CSR METIS requires.
    let mut xadj: Vec<ms::idx_t> = g.rowptr().iter().map(|&p| p as ms::idx_t).collect();
    let mut adjncy: Vec<ms::idx_t> = g.colidx().iter().map(|&c| c as ms::idx_t).collect();
    let mut nv = n as ms::idx_t;
    let mut options = [0 as ms::idx_t; ms::METIS_NOPTIONS as usize];
    let mut perm = vec![0 as ms::idx_t; n];
    let mut iperm = vec![0 as ms::idx_t; n];
    let _one_at_a_time = METIS_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    // SAFETY: every pointer refers to a live Vec/array of the length METIS
    // reads: xadj n+1, adjncy xadj[n], options METIS_NOPTIONS, perm and iperm
    // n. vwgt may be null. METIS writes only perm and iperm.
    let status = unsafe {
        ms::METIS_SetDefaultOptions(options.as_mut_ptr());
        options[ms::moptions_et_METIS_OPTION_NUMBERING as usize] = 0;
        ms::METIS_NodeND(
            &mut nv,
            xadj.as_mut_ptr(),
            adjncy.as_mut_ptr(),
            std::ptr::null_mut(),
            options.as_mut_ptr(),
            perm.as_mut_ptr(),
            iperm.as_mut_ptr(),
        )
    };
    if status != ms::rstatus_et_METIS_OK {
        return Err(Error::Input(format!(
            "METIS_NodeND failed with status {status}; try --order rcm"
        )));
    }
    // METIS: row i of the permuted matrix is row perm[i] of the original.
    Permutation::try_from_new_to_old(perm.into_iter().map(|p| p as u32).collect())
}
