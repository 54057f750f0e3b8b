//! `metrics.smi-spec.io`.
