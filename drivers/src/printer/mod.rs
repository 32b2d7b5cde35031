//! printer (in progress).
