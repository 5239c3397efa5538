//! The integration tests, one binary: each file is a module named for what
//! it covers (one binary links and optimises the library once, not 22 times).

mod common;

mod bad_input;
mod cli;
mod cli_model;
mod cli_points;
mod csb;
mod dof;
mod embed;
mod gradient;
mod graph;
mod grid;
mod init;
mod knn;
mod memory;
mod model;
mod mtx;
mod near;
mod npz;
mod outputs;
mod plot;
mod points_io;
mod progress;
mod quality;
mod schedule;
mod session;
mod steps;
mod subsample;
