//! The start-up profiler.
//!
//! The user's Emacs is started again and again as a child process with a
//! probe that records every load, phase and use-package block
//! ([`recorder`], [`event`]); the harness ([`harness`], [`pty`]) runs and
//! times the children; [`tree`] turns each child's event stream into a
//! tree, [`profile`] merges the runs with [`stats`]; [`hints`] explains
//! what it sees, [`compare`] tells regressions from noise, and [`history`]
//! remembers every profile with the configuration's commit ([`git`]).

pub mod compare;
pub mod event;
pub mod git;
pub mod harness;
pub mod hints;
pub mod history;
pub mod profile;
pub mod pty;
pub mod recorder;
pub mod stats;
pub mod tree;
