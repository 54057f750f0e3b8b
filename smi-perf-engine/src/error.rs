//! The engine's error type.

use smi_types::perf::{LoadModel, Protocol, SpecError};

/// Everything that stops a run from starting or a result from being built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The spec breaks one or more B.4 rules.
    #[error("invalid PerformanceTest spec:\n{}", .0.iter().map(|e| format!("  - {e}")).collect::<Vec<_>>().join("\n"))]
    InvalidSpec(Vec<SpecError>),
    /// No generator of that name is registered.
    #[error("unknown load generator {name:?} (registered: {known})")]
    UnknownGenerator {
        /// Requested name.
        name: String,
        /// Comma-separated registered names.
        known: String,
    },
    /// The generator does not support the protocol / load model combination.
    #[error(
        "load generator {generator:?} does not support {protocol} with the {model} load model; it supports protocols [{protocols}] and load models [{models}]"
    )]
    Unsupported {
        /// Generator name.
        generator: String,
        /// Requested protocol.
        protocol: Protocol,
        /// Requested load model.
        model: LoadModel,
        /// What it supports.
        protocols: String,
        /// What it supports.
        models: String,
    },
    /// A result (read from a file) is not internally consistent.
    #[error("inconsistent PerformanceTestResult:\n{}", .0.iter().map(|e| format!("  - {e}")).collect::<Vec<_>>().join("\n"))]
    InvalidResult(Vec<SpecError>),
    /// Results cannot be merged.
    #[error("cannot merge results: {0}")]
    Merge(String),
    /// A histogram could not be encoded or decoded.
    #[error("histogram: {0}")]
    Histogram(String),
    /// TLS configuration problem.
    #[error("tls: {0}")]
    Tls(String),
    /// I/O while setting up (binding, reading files).
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// Anything else a plug-in reports.
    #[error("{0}")]
    Other(String),
}

/// Short alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;
