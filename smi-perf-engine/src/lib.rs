//! A pluggable performance-test engine for service meshes.
