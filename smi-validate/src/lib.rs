//! Validation of SMI manifests and typed objects.
