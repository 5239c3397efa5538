//! Vertex orderings (SPEC §7). Nothing outside this module sees permuted ids
//! except through [`Permutation`].

#[cfg(feature = "metis")]
mod metis;
mod rcm;

use crate::error::{Error, Result};
use crate::graph::StochasticGraph;

/// A bijection between original vertex ids ("old") and working ids ("new").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Permutation {
    new_to_old: Vec<u32>,
    old_to_new: Vec<u32>,
}

impl Permutation {
    pub fn identity(n: usize) -> Self {
        let v: Vec<u32> = (0..n as u32).collect();
        Permutation {
            new_to_old: v.clone(),
            old_to_new: v,
        }
    }

    /// From the list of old ids in their new order; checks it is a bijection.
    pub fn try_from_new_to_old(new_to_old: Vec<u32>) -> Result<Self> {
        let n = new_to_old.len();
        let mut old_to_new = vec![u32::MAX; n];
        for (new, &old) in new_to_old.iter().enumerate() {
            if old as usize >= n || old_to_new[old as usize] != u32::MAX {
                return Err(Error::Input("ordering is not a permutation".into()));
            }
            old_to_new[old as usize] = new as u32;
        }
        Ok(Permutation {
            new_to_old,
            old_to_new,
        })
    }

    pub fn len(&self) -> usize {
        self.new_to_old.len()
    }
    pub fn is_empty(&self) -> bool {
        self.new_to_old.is_empty()
    }
    #[inline]
    pub fn old_of(&self, new: usize) -> usize {
        self.new_to_old[new] as usize
    }
    #[inline]
    pub fn new_of(&self, old: usize) -> usize {
        self.old_to_new[old] as usize
    }

    /// Rows given in original order, rearranged into working order.
    pub fn permute_in<T: Copy>(&self, orig: &[T]) -> Vec<T> {
        self.new_to_old.iter().map(|&o| orig[o as usize]).collect()
    }
    /// Rows in working order, back in original order.
    pub fn permute_out<T: Copy>(&self, work: &[T]) -> Vec<T> {
        self.old_to_new.iter().map(|&w| work[w as usize]).collect()
    }
}

/// Which ordering to apply before the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Ordering {
    /// METIS nested dissection (needs the `metis` feature, on by default).
    #[default]
    Metis,
    /// Reverse Cuthill–McKee (pure Rust).
    Rcm,
    /// Input order.
    None,
}

impl std::str::FromStr for Ordering {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "metis" => Ok(Ordering::Metis),
            "rcm" => Ok(Ordering::Rcm),
            "none" => Ok(Ordering::None),
            _ => Err(format!(
                "unknown ordering '{s}': expected metis, rcm or none"
            )),
        }
    }
}

/// Computes the ordering of the symmetric pattern of `g`.
pub fn compute(g: &StochasticGraph, how: Ordering) -> Result<Permutation> {
    match how {
        Ordering::None => Ok(Permutation::identity(g.n())),
        Ordering::Rcm => Ok(rcm::rcm(g)),
        #[cfg(feature = "metis")]
        Ordering::Metis => metis::node_nd(g),
        #[cfg(not(feature = "metis"))]
        Ordering::Metis => Err(Error::Param(
            "this build has no METIS (built without the 'metis' feature); use --order rcm".into(),
        )),
    }
}
