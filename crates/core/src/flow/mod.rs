//! The flow engine: one citizen doing one service, driven by the catalog and independent of any
//! UI, so the same flow runs from the touchscreen, from `zizhu flow run` and from tests.
//!
//! ```text
//! choose → identify (card | code | typed, 代他人) → [phone face check] → [e-licences 免证办,
//!        with consent] → form → [commitment 告知承诺] → [appointment slot] → confirm
//!        → platform call (journal first, idempotency key) → [payment QR, polled]
//!        → result → print / hand-off QR → evaluation 好差评 → end (memory wiped)
//!
//! Going back one step is possible between the form and confirm ([`Flow::back`]).
//! ```
//!
//! The engine talks to the platform through [`Backend`] and to the journal through [`Outbox`]
//! (both in [`ports`], with the data that crosses them);
//! the HTTP client and the SQLite journal implement them (see `adapters`).
pub mod codes;
pub mod engine;
pub mod fields;
pub mod identity;
pub mod play;
pub mod ports;
pub mod receipt;
pub mod remote;

pub use engine::{Action, Flow, FlowError, MemberOutcome, Step, Timing};
pub use fields::{validate, FieldError};
pub use identity::{IdentifyError, Identity, Source};
pub use ports::{
    Backend, BackendError, CodeIdentity, Document, Evaluation, HeldLicence, Item, Outbox,
    OutboxError, PayInfo, PollStatus, Reply, ReplyStatus, Slot, SubjectRef, Submission, Table,
};
