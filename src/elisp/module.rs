//! Shims about the module itself: version handshake, build information, and
//! test hooks that exercise the error boundary.

use emacs::{defun, Env, IntoLisp, Result, Value};

use super::{plist, run};
use crate::error::Error;

/// Return the version of the artisan module, as a string like "0.1.0".
///
/// The Lisp side compares it with `artisan-version' after loading.
#[defun]
fn version() -> Result<&'static str> {
    Ok(crate::VERSION)
}

/// Return a plist describing how this module was built and where it runs.
///
/// Keys: `:version', `:profile' ("release" or "debug"), `:target' (arch-os),
/// `:module-api' (the oldest Emacs module API it needs) and `:env-size' (the size
/// of the running Emacs' module environment, which grows with each API).
#[defun]
fn build_info(env: &Env) -> Result<Value<'_>> {
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    let target = format!("{}-{}", std::env::consts::ARCH, std::env::consts::OS);
    // SAFETY: `size` is the first field of every emacs_env version.
    let env_size = unsafe { (*env.raw()).size } as i64;
    plist(
        env,
        &[
            (":version", crate::VERSION.into_lisp(env)?),
            (":profile", profile.into_lisp(env)?),
            (":target", target.into_lisp(env)?),
            (":module-api", 28i64.into_lisp(env)?),
            (":env-size", env_size.into_lisp(env)?),
        ],
    )
}

/// Test hook: signal an `artisan-native-error' carrying MESSAGE.
#[defun]
fn test_error(env: &Env, message: String) -> Result<Value<'_>> {
    run(env, || Err(Error::native(message)))
}

/// Test hook: panic inside the module with MESSAGE; the boundary turns the
/// panic into an `artisan-native-error' and Emacs keeps running.
#[defun]
fn test_panic(env: &Env, message: String) -> Result<Value<'_>> {
    run(env, || -> crate::error::Result<Value<'_>> {
        panic!("{message}");
    })
}

/// Test hook: return the length of STRING in bytes; a non-string argument
/// signals `wrong-type-argument'.
#[defun]
fn test_string_bytes(string: String) -> Result<i64> {
    Ok(string.len() as i64)
}

/// Test hook: call FUNCTION with no arguments and return its value, so tests
/// can check that Lisp signals raised inside pass through unchanged.
#[defun]
fn test_funcall<'e>(function: Value<'e>) -> Result<Value<'e>> {
    function.call([])
}
