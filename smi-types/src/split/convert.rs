//! Conversions between the versions of this group (hub: the latest version).
