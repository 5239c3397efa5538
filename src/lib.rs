//! sgtsne: embed large sparse stochastic graphs in 1, 2 or 3 dimensions, in
//! the style of SG-t-SNE-Π.
//!
//! One entry point: an [`Embedder`] holds the settings, checks them and
//! resolves every `auto` once into a [`Plan`]; [`Embedder::session`] builds
//! a [`Session`] that owns the run and can be run on, stopped from its
//! callback, and asked for its [`Embedding`] at any point.
//!
//! Data flows one way (docs/architecture.md): [`io`] reads files into
//! [`sparse`] triplets or [`points`]; [`affinity`] turns points into
//! triplets; [`graph`] makes them a symmetric P with ΣP = 1; [`order`] and
//! [`csb`] lay it out for the cache; [`optimize`] runs gradient descent
//! with [`attract`] (sparse) and [`repulse`] (exact or grid) forces; and
//! [`io::output`], [`plot`] and [`quality`] take the result.
//!
//! ```
//! use std::ops::ControlFlow;
//! use sgtsne::graph::{Coo, StochasticGraph};
//! use sgtsne::Embedder;
//!
//! // A 40-cycle, as triplets (i, j, weight of the edge j → i).
//! let n = 40;
//! let coo = Coo {
//!     n,
//!     rows: (0..n as u32).map(|j| (j + 1) % n as u32).collect(),
//!     cols: (0..n as u32).collect(),
//!     vals: vec![1.0; n],
//! };
//! let (graph, _report) = StochasticGraph::from_coo(&coo, 1.0)?;
//!
//! let embedder = Embedder::new(2).seed(7);
//! let mut session = embedder.session(&graph, None)?;
//! session.run(500, &mut |_| ControlFlow::Continue(()))?;
//! let halfway = session.coordinates(); // n × 2, input vertex order
//! assert_eq!(halfway.len(), 2 * n);
//! session.run(500, &mut |_| ControlFlow::Continue(()))?;
//! let result = session.result()?;
//!
//! // The same as 1000 iterations in one go, bit for bit.
//! let once = embedder.max_iter(1000).embed(&graph)?;
//! assert_eq!(result.coords, once.coords);
//! assert!(result.kl.is_finite());
//! # Ok::<(), sgtsne::Error>(())
//! ```

pub mod affinity;
pub mod attract;
pub mod csb;
pub mod defaults;
pub mod embedder;
pub mod error;
pub mod graph;
pub mod init;
pub mod io;
pub mod kernel;
pub mod knn;
pub mod memory;
pub mod model;
pub mod optimize;
pub mod order;
pub mod pca;
pub mod place;
pub mod plan;
pub mod plot;
pub mod points;
pub mod progress;
pub mod quality;
pub mod repulse;
pub mod session;
pub mod sparse;
pub mod spectral;
pub mod subsample;
pub mod util;

pub use embedder::Embedder;
pub use error::{Error, Result};
pub use init::Init;
pub use model::Model;
pub use place::Placement;
pub use plan::{AttractionKind, Eta, Plan};
pub use session::{Embedding, Progress, RunStatus, Session};

/// The README's Rust example, compiled and run by `cargo test`.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
