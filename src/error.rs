//! The error boundary of the command line: which failures are the user's input (exit 2) and which
//! are failed operations (exit 1). Library modules keep their own typed errors; commands wrap them
//! with `anyhow` context and mark bad input with [`UsageError`].
use std::fmt;

/// Bad usage or bad input: the command exits with status 2 and prints the message, which names what
/// was wrong and what to do.
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Shorthand for `Err(UsageError(..).into())` in commands.
pub fn usage<T>(msg: impl Into<String>) -> anyhow::Result<T> {
    Err(UsageError(msg.into()).into())
}

/// Whether any error in the chain marks bad usage or input.
pub fn is_usage(err: &anyhow::Error) -> bool {
    err.chain().any(|e| e.is::<UsageError>())
}
