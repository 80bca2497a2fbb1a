//! The error type of the Rust core.
//!
//! Core code never sees an Emacs `Env`, so it reports failures with [`Error`]: a
//! [`Kind`] that decides which Lisp signal the shims raise, and a message a user
//! can act on.  The mapping from kinds to signal symbols lives in
//! `crate::elisp`, next to the `define_errors!` table.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

/// What went wrong, at the granularity of the Lisp error hierarchy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A failure with no more specific class (`artisan-native-error`).
    Native,
    /// The index could not be opened, read or written (`artisan-index-error`).
    Index,
    /// The index is being written by another process (`artisan-index-locked`).
    Locked,
    /// A search query is malformed (`artisan-query-error`).
    Query,
    /// A link-graph operation failed (`artisan-graph-error`).
    Graph,
    /// A start-up profiling operation failed (`artisan-startup-error`).
    Startup,
    /// A background job was cancelled by the user (`artisan-cancelled`).
    Cancelled,
    /// The responsiveness monitor failed (`artisan-pause-error`).
    Pause,
}

/// An error of the Rust core: a kind and a readable message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// Which Lisp signal this error becomes.
    pub kind: Kind,
    /// The message shown to the user.
    pub message: String,
}

impl Error {
    /// Makes an error of `kind` with `message`.
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
        }
    }

    /// A generic native error.
    pub fn native(message: impl Into<String>) -> Self {
        Error::new(Kind::Native, message)
    }

    /// An index error.
    pub fn index(message: impl Into<String>) -> Self {
        Error::new(Kind::Index, message)
    }

    /// A query error.
    pub fn query(message: impl Into<String>) -> Self {
        Error::new(Kind::Query, message)
    }

    /// A graph error.
    pub fn graph(message: impl Into<String>) -> Self {
        Error::new(Kind::Graph, message)
    }

    /// A start-up profiler error.
    pub fn startup(message: impl Into<String>) -> Self {
        Error::new(Kind::Startup, message)
    }

    /// The error of a cancelled job.
    pub fn cancelled() -> Self {
        Error::new(Kind::Cancelled, "Cancelled")
    }

    /// Prefixes the message with `context`, keeping the kind.
    pub fn context(self, context: impl fmt::Display) -> Self {
        Error {
            kind: self.kind,
            message: format!("{context}: {}", self.message),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// The result type of the Rust core.
pub type Result<T> = std::result::Result<T, Error>;

/// Attaches context to foreign errors (I/O, tantivy, JSON), choosing the kind.
pub trait ResultExt<T> {
    /// Turns any displayable error into an [`Error`] of `kind`, prefixed with `context`.
    fn or_kind(self, kind: Kind, context: impl fmt::Display) -> Result<T>;
}

impl<T, E: fmt::Display> ResultExt<T> for std::result::Result<T, E> {
    fn or_kind(self, kind: Kind, context: impl fmt::Display) -> Result<T> {
        self.map_err(|e| Error::new(kind, format!("{context}: {e}")))
    }
}

thread_local! {
    /// Set while this thread runs code under [`catch_panics`], so the panic hook
    /// stays quiet for our panics and leaves other modules' panics alone.
    static IN_GUARD: Cell<bool> = const { Cell::new(false) };
    /// The message of the last panic caught on this thread.
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

static HOOK: Once = Once::new();

/// Installs a panic hook that records panics raised under [`catch_panics`]
/// instead of printing them to Emacs' terminal, and defers to the previous hook
/// for every other panic in the process.
pub fn install_panic_hook() {
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if IN_GUARD.with(Cell::get) {
                let location = info
                    .location()
                    .map(|l| format!(" at {}:{}", l.file(), l.line()))
                    .unwrap_or_default();
                let payload = info.payload();
                let text = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".to_string());
                LAST_PANIC.with(|p| *p.borrow_mut() = Some(format!("{text}{location}")));
            } else {
                previous(info);
            }
        }));
    });
}

/// Runs `f`, turning a panic into an [`Error`] of kind [`Kind::Native`].
///
/// A caught panic is still a bug; the message says so, so users report it.
/// Shims and worker threads both use this, so a panic fails one call or one
/// job instead of tearing down Emacs.
pub fn catch_panics<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    let outer = IN_GUARD.with(|g| g.replace(true));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    IN_GUARD.with(|g| g.set(outer));
    match result {
        Ok(r) => r,
        Err(_) => {
            let message = LAST_PANIC
                .with(|p| p.borrow_mut().take())
                .unwrap_or_else(|| "unknown panic".to_string());
            Err(Error::native(format!(
                "Internal error in the artisan module (please report it): {message}"
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_prefixes_the_message_and_keeps_the_kind() {
        let e = Error::query("unterminated phrase").context("in query \"\\\"foo\"");
        assert_eq!(e.kind, Kind::Query);
        assert_eq!(e.to_string(), "in query \"\\\"foo\": unterminated phrase");
    }

    #[test]
    fn or_kind_wraps_foreign_errors() {
        let r: std::result::Result<(), std::io::Error> = Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "no such file",
        ));
        let e = r.or_kind(Kind::Index, "opening /x").unwrap_err();
        assert_eq!(e.kind, Kind::Index);
        assert_eq!(e.message, "opening /x: no such file");
    }

    #[test]
    fn catch_panics_turns_a_panic_into_a_native_error() {
        install_panic_hook();
        let r: Result<()> = catch_panics(|| panic!("boom {}", 42));
        let e = r.unwrap_err();
        assert_eq!(e.kind, Kind::Native);
        assert!(e.message.contains("boom 42"), "{}", e.message);
        assert!(e.message.contains("please report"), "{}", e.message);
        // Errors and values pass through untouched.
        assert_eq!(catch_panics(|| Ok(7)), Ok(7));
        assert_eq!(
            catch_panics::<()>(|| Err(Error::query("bad"))),
            Err(Error::query("bad"))
        );
    }
}
