//! `specs.smi-spec.io`.
