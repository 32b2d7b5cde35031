//! The one integration-test binary (one `mod` per area keeps link times down).
mod elicense;
mod util;
mod image;
mod fleet;
mod status;
