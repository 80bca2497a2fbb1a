//! emacs-artisan's native module, `artisan-dyn`.
//!
//! The crate has two layers.  Pure-Rust capabilities (`error`, and one module
//! per feature) never see an Emacs `Env` and are tested with `cargo test`.
//! [`elisp`] holds the thin `#[defun]` shims that convert values at the
//! boundary, contain panics and turn core errors into `artisan-*` signals.
//! Native functions are private to the package: they are named `artisan--*`,
//! and the Lisp files in `lisp/` wrap them with documented commands.

pub mod elisp;
pub mod error;
pub mod graph;
pub mod job;
pub mod knowledge;
pub mod pause;
pub mod startup;

emacs::plugin_is_GPL_compatible!();

/// The module's version; the Lisp side checks it against `artisan-version`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

#[emacs::module(
    name = "artisan-dyn",
    defun_prefix = "artisan",
    separator = "--",
    mod_in_name = false
)]
fn init(_env: &emacs::Env) -> emacs::Result<()> {
    error::install_panic_hook();
    Ok(())
}
