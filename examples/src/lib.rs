//! Shared helpers for the runnable examples in `src/bin/`.
//!
//! * [`tls`]: a self-signed serving certificate made at start (rcgen) and rustls configs that
//!   use the ring provider explicitly — what a webhook needs before the API server will call it.
//! * [`serve`]: a small, bounded HTTP/1.1 + HTTP/2 JSON server (hyper 1, over TLS or plain) for
//!   webhook handlers, and a one-shot HTTPS client to call it with.
//!
//! Each program in `src/bin/` is one task a mesh vendor or tool author has; see the crate's
//! `README.md` for the list and how to run them.

pub mod serve;
pub mod tls;
