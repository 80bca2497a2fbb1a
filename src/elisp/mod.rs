//! The Lisp side of the boundary: error signals, panic containment and value
//! conversion.  Everything that touches an Emacs `Env` lives under this module;
//! the shims in the submodules are a few lines each and call the pure-Rust core.

use emacs::{Env, Result as LispResult, Value};

use crate::error::{catch_panics, Error, Kind, Result};

pub mod graph;
pub mod job;
pub mod knowledge;
pub mod module;
pub mod pause;
pub mod startup;

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
    artisan_pause_error "Artisan responsiveness monitor error" (artisan_error)
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
        Kind::Pause => artisan_pause_error,
    }
}

/// Raises `error` as its Lisp signal, with the message as the only datum.
pub fn signal<T>(env: &Env, error: &Error) -> LispResult<T> {
    env.signal(signal_symbol(error.kind), (error.message.as_str(),))
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
