//! gpio (in progress).
