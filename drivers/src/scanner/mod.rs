//! scanner (in progress).
