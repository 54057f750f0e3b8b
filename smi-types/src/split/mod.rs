//! `split.smi-spec.io`.
