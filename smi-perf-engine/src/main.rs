//! `smi-perf`: run performance tests, serve a target, compare results.
fn main() {}
