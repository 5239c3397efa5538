//! sgtsne: embed large sparse stochastic graphs in 1, 2 or 3 dimensions, in
//! the style of SG-t-SNE-Π.
//!
//! Data flows one way: [`io`] reads a matrix, [`graph`] turns it into a
//! symmetric P with ΣP = 1, [`order`] and [`csb`] lay it out for the cache,
//! [`optimize`] runs gradient descent with [`attract`] (sparse) and
//! [`repulse`] (exact or grid) forces, and [`io::output`] writes the result.
//!
//! ```
//! use sgtsne::graph::{Coo, StochasticGraph};
//! use sgtsne::optimize::{embed, Params};
//!
//! // A 4-cycle, as triplets (i, j, weight of the edge j → i).
//! let coo = Coo { n: 4, rows: vec![1, 2, 3, 0], cols: vec![0, 1, 2, 3], vals: vec![1.0; 4] };
//! let (graph, _report) = StochasticGraph::from_coo(&coo, 1.0).unwrap();
//! let params = Params { max_iter: 100, ..Params::default() };
//! let result = embed::<2>(&graph, &params, None, &mut |_| {}).unwrap();
//! assert_eq!(result.y.len(), 4);
//! assert!(result.kl.is_finite());
//! ```

pub mod attract;
pub mod csb;
pub mod error;
pub mod graph;
pub mod io;
pub mod knn;
pub mod memory;
pub mod optimize;
pub mod order;
pub mod pca;
pub mod plot;
pub mod points;
pub mod repulse;
pub mod util;

pub use error::{Error, Result};
