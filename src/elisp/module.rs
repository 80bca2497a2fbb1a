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

/// The module API each size of `emacs_env` stands for: every Emacs version
/// that added functions to the environment made it larger.  Emacs 29 and
/// later added none, so they provide the API of 28 as far as a module can
/// tell.
const ENV_SIZES: &[(i64, i64)] = &[(25, 232), (26, 240), (27, 280), (28, 320)];

/// The newest module API whose functions an environment of `size` bytes
/// has, or `None` when it is smaller than even Emacs 25's.
fn api_of_env_size(size: i64) -> Option<i64> {
    ENV_SIZES
        .iter()
        .rev()
        .find(|(_, s)| size >= *s)
        .map(|(api, _)| *api)
}

/// The module API this module needs: that of the `emacs` crate's
/// enabled feature.
const NEEDED_API: i64 = 28;

/// Return a plist describing how this module was built and where it runs.
///
/// Keys: `:version', `:profile' ("release" or "debug"), `:target' (arch-os),
/// `:module-api' (the Emacs module API it needs, named after the Emacs
/// version that introduced it), `:emacs-api' (the newest API the running
/// Emacs provides, nil if unknown) and `:env-size' (the size of the running
/// Emacs' module environment, which grows with each API).
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
            (":module-api", NEEDED_API.into_lisp(env)?),
            (
                ":emacs-api",
                match api_of_env_size(env_size) {
                    Some(api) => api.into_lisp(env)?,
                    None => env.intern("nil")?,
                },
            ),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_sizes_name_the_api_in_emacs_versions() {
        assert_eq!(api_of_env_size(320), Some(28));
        assert_eq!(api_of_env_size(328), Some(28));
        assert_eq!(api_of_env_size(280), Some(27));
        assert_eq!(api_of_env_size(300), Some(27));
        assert_eq!(api_of_env_size(240), Some(26));
        assert_eq!(api_of_env_size(232), Some(25));
        assert_eq!(api_of_env_size(100), None);
        assert!(api_of_env_size(320).is_some_and(|api| api >= NEEDED_API));
    }
}
