//! `perf.smi-spec.io`: the Performance Test API.
