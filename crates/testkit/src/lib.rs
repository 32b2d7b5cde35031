//! Test tooling of the workspace, outside every shipped binary: the generator of the e-licence
//! test vectors in tests/vectors/elicense ([`elicense_vectors`]). The integration tests check the
//! committed vectors against it; `cargo run -p zizhu-testkit --bin gen-elicense-vectors -- DIR`
//! rewrites them.

pub mod elicense_vectors;

/// The core's e-licence module, under the name the generator's imports use.
use zizhu_core::elicense;
