//! Guanxi's demo data generator (`guanxi demo`) and benchmark harness (`guanxi bench`).

pub mod bench;
pub mod demo;
pub mod rng;
pub mod words;
