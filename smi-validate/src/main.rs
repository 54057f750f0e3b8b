//! `smi-validate`: the command-line validator.
fn main() {}
