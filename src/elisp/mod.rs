//! The Lisp side of the boundary: error signals, panic containment and value
//! conversion.  Everything that touches an Emacs `Env` lives under this module;
//! the shims in the submodules are a few lines each and call the pure-Rust core.

use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use emacs::{Env, Result as LispResult, Value};

use crate::error::{Error, Kind, Result};

pub mod module;

// The error tree.  `artisan-error' and `artisan-module-error' are also defined
// by artisan.el (the loader needs them before any module exists); defining them
// again here keeps the module usable on its own and the definitions identical.
emacs::define_errors! {
    artisan_error "Artisan error" (error)
    artisan_module_error "Artisan module error" (artisan_error)
    artisan_native_error "Artisan native error" (artisan_error)
    artisan_index_error "Artisan index error" (artisan_error)
    artisan_index_locked "Artisan index is locked" (artisan_index_error)
    artisan_query_error "Artisan query error" (artisan_error)
    artisan_graph_error "Artisan graph error" (artisan_error)
    artisan_startup_error "Artisan start-up profiler error" (artisan_error)
    artisan_cancelled "Artisan job cancelled" (artisan_error)
}

/// The signal symbol for an error kind.
fn signal_symbol(kind: Kind) -> &'static emacs::OnceGlobalRef {
    match kind {
        Kind::Native => artisan_native_error,
        Kind::Index => artisan_index_error,
        Kind::Locked => artisan_index_locked,
        Kind::Query => artisan_query_error,
        Kind::Graph => artisan_graph_error,
        Kind::Startup => artisan_startup_error,
        Kind::Cancelled => artisan_cancelled,
    }
}

/// Raises `error` as its Lisp signal, with the message as the only datum.
pub fn signal<T>(env: &Env, error: &Error) -> LispResult<T> {
    env.signal(signal_symbol(error.kind), (error.message.as_str(),))
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
/// Worker threads use this too, so a panic in a job fails the job instead of
/// tearing down Emacs.
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

/// Runs core code for a shim: panics are contained and core errors become
/// their `artisan-*` signals.
pub fn run<T>(env: &Env, f: impl FnOnce() -> Result<T>) -> LispResult<T> {
    match catch_panics(f) {
        Ok(v) => Ok(v),
        Err(e) => signal(env, &e),
    }
}

/// Builds a plist from keyword/value pairs.
pub fn plist<'e>(env: &'e Env, pairs: &[(&str, Value<'e>)]) -> LispResult<Value<'e>> {
    let mut args = Vec::with_capacity(pairs.len() * 2);
    for (key, value) in pairs {
        args.push(env.intern(key)?);
        args.push(*value);
    }
    env.list(&args[..])
}

/// Builds a Lisp list from values.
pub fn list<'e>(env: &'e Env, items: &[Value<'e>]) -> LispResult<Value<'e>> {
    env.list(items)
}
