//! Development and test tooling around the kiosk's core: the demo service platform
//! ([`platform::demo`]: deterministic synthetic people and records for every catalog service) and
//! demo e-licence issuing ([`elicense::demo`]). The e-licence test-vector generator is in the
//! dev-only crate `zizhu-testkit`.
//!
//! The modules mirror the core's paths (`platform` and `elicense` re-export the core's and add the
//! demo parts), so `zizhu::platform::demo` and `zizhu::elicense::demo` read as before.

/// The core's platform module plus the demo platform.
pub mod platform {
    pub use zizhu_core::platform::*;
    pub mod demo;
}

/// The core's e-licence module plus demo issuing.
pub mod elicense {
    pub use zizhu_core::elicense::*;
    pub mod demo;
}

use zizhu_core::catalog;
