//! `access.smi-spec.io`.
