//! A pseudo-terminal for children that need a terminal (`emacs -nw`).
//!
//! The child runs on the pty's slave side as a session leader with the pty
//! as its controlling terminal; a thread drains the master side so the
//! child never blocks on output, keeps the last bytes for error messages,
//! and answers the few queries a terminal emulator answers (device
//! attributes, background colour, cursor position), the way xterm would:
//! without answers, Emacs' xterm support waits two seconds for them.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use crate::error::{Error, Kind, Result, ResultExt};

/// How many bytes of the child's output are kept.
const TAIL: usize = 16 * 1024;

/// An open pseudo-terminal.
pub struct Pty {
    master: OwnedFd,
    slave: OwnedFd,
}

impl Pty {
    /// Opens a pseudo-terminal of `cols` x `rows` characters.
    pub fn open(cols: u16, rows: u16) -> Result<Pty> {
        let mut master: libc::c_int = -1;
        let mut slave: libc::c_int = -1;
        let size = libc::winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: openpty writes two descriptors; the name buffer and the
        // termios are optional (null), the window size is a valid pointer.
        let rc = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                &size,
            )
        };
        if rc != 0 {
            return Err(Error::startup(format!(
                "Cannot open a pseudo-terminal: {}",
                io::Error::last_os_error()
            )));
        }
        // SAFETY: openpty succeeded, so both descriptors are open and ours.
        let (master, slave) =
            unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
        for fd in [&master, &slave] {
            // SAFETY: fcntl on descriptors we own.
            unsafe {
                libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC);
            }
        }
        Ok(Pty { master, slave })
    }

    /// Makes `cmd` run on the slave side, as a session leader whose
    /// controlling terminal is the pty.
    pub fn attach(&self, cmd: &mut Command) -> Result<()> {
        let dup = |fd: &OwnedFd| -> Result<Stdio> {
            Ok(Stdio::from(
                fd.try_clone()
                    .or_kind(Kind::Startup, "Cannot duplicate the terminal")?,
            ))
        };
        cmd.stdin(dup(&self.slave)?)
            .stdout(dup(&self.slave)?)
            .stderr(dup(&self.slave)?);
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setsid() < 0 {
                    return Err(io::Error::last_os_error());
                }
                if libc::ioctl(0, libc::TIOCSCTTY as _, 0) < 0 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
        Ok(())
    }

    /// Closes the slave side (after the child started) and drains the
    /// master side on a thread until `stop` is set and nothing more comes.
    /// The thread returns the last bytes the child wrote.
    pub fn drain(self, stop: Arc<AtomicBool>) -> Result<JoinHandle<Vec<u8>>> {
        let Pty { master, slave } = self;
        drop(slave);
        std::thread::Builder::new()
            .name("artisan-pty".into())
            .spawn(move || drain_loop(master, &stop))
            .or_kind(Kind::Startup, "Cannot start the terminal reader")
    }
}

/// Terminal queries and xterm's answers.
const ANSWERS: &[(&[u8], &[u8])] = &[
    // Secondary device attributes: xterm patch 380.
    (b"\x1b[>0c", b"\x1b[>41;380;0c"),
    (b"\x1b[>c", b"\x1b[>41;380;0c"),
    // Primary device attributes.
    (b"\x1b[0c", b"\x1b[?64;1;2;6;9;15;18;21;22c"),
    (b"\x1b[c", b"\x1b[?64;1;2;6;9;15;18;21;22c"),
    // Background and foreground colours.
    (b"\x1b]11;?", b"\x1b]11;rgb:0000/0000/0000\x1b\\"),
    (b"\x1b]10;?", b"\x1b]10;rgb:ffff/ffff/ffff\x1b\\"),
    // Cursor position.
    (b"\x1b[6n", b"\x1b[1;1R"),
    // Terminal version.
    (b"\x1b[>0q", b"\x1bP>|XTerm(380)\x1b\\"),
];

/// Answers for the queries that end inside `data[from..]`.
pub fn answers(data: &[u8], from: usize) -> Vec<u8> {
    let mut found: Vec<(usize, &[u8])> = Vec::new();
    for (query, answer) in ANSWERS {
        let mut start = 0;
        while let Some(pos) = find(data.get(start..).unwrap_or(&[]), query) {
            let end = start + pos + query.len();
            if end > from && !found.iter().any(|(e, _)| *e == end) {
                found.push((end, answer));
            }
            start += pos + 1;
        }
    }
    found.sort_by_key(|(end, _)| *end);
    found
        .into_iter()
        .flat_map(|(_, a)| a.iter().copied())
        .collect()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn drain_loop(master: OwnedFd, stop: &AtomicBool) -> Vec<u8> {
    let fd = master.as_raw_fd();
    let mut tail: Vec<u8> = Vec::new();
    let mut carry: Vec<u8> = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let mut pfd = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let ready = unsafe { libc::poll(&mut pfd, 1, 50) };
        if ready < 0 {
            if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                continue;
            }
            break;
        }
        if ready == 0 {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            continue;
        }
        // SAFETY: reading into a local buffer of the given size.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if n <= 0 {
            // EIO: every slave descriptor is closed (the child exited).
            break;
        }
        let chunk = buf.get(..n as usize).unwrap_or(&[]);
        let mut window = std::mem::take(&mut carry);
        let from = window.len();
        window.extend_from_slice(chunk);
        let reply = answers(&window, from);
        if !reply.is_empty() {
            // SAFETY: writing a local buffer to the master side.
            unsafe {
                libc::write(fd, reply.as_ptr().cast(), reply.len());
            }
        }
        carry = window
            .get(window.len().saturating_sub(16)..)
            .unwrap_or(&[])
            .to_vec();
        tail.extend_from_slice(chunk);
        if tail.len() > 2 * TAIL {
            tail.drain(..tail.len() - TAIL);
        }
    }
    if tail.len() > TAIL {
        tail.drain(..tail.len() - TAIL);
    }
    tail
}

/// Terminal output made readable: escape sequences and control characters
/// removed, lines trimmed, blank lines dropped.
pub fn readable(output: &[u8]) -> String {
    let text = String::from_utf8_lossy(output);
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\x1b' => match chars.next() {
                Some('[') => {
                    // CSI: parameters, then a final byte in @..~.
                    for d in chars.by_ref() {
                        if ('@'..='~').contains(&d) {
                            break;
                        }
                    }
                }
                Some(']') | Some('P') => {
                    // OSC / DCS: until BEL or ST.
                    while let Some(d) = chars.next() {
                        if d == '\x07' {
                            break;
                        }
                        if d == '\x1b' && chars.peek() == Some(&'\\') {
                            chars.next();
                            break;
                        }
                    }
                }
                _ => {}
            },
            '\r' => out.push('\n'),
            '\n' | '\t' => out.push(c),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out.lines()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_queries_once_even_across_chunks() {
        assert_eq!(answers(b"abc\x1b[>0cdef", 0), b"\x1b[>41;380;0c".to_vec());
        // The query ended in the previous chunk: already answered.
        assert!(answers(b"\x1b[>0cxyz", 8).is_empty());
        // Split across the boundary: answered now.
        assert_eq!(answers(b"\x1b[>0c", 3), b"\x1b[>41;380;0c".to_vec());
        let both = answers(b"\x1b]11;?\x1b\\\x1b[6n", 0);
        assert_eq!(both, b"\x1b]11;rgb:0000/0000/0000\x1b\\\x1b[1;1R".to_vec());
        assert!(answers(b"plain text", 0).is_empty());
    }

    #[test]
    fn readable_strips_escape_sequences() {
        let raw = b"\x1b[?1049h\x1b[H\x1b[2JError in init:\r\n\x1b[7mWrong\x1b[0m type\x1b]0;title\x07\r\n\r\n";
        assert_eq!(readable(raw), "Error in init:\nWrong type");
    }

    #[test]
    fn a_child_on_the_pty_sees_a_terminal_of_the_right_size() {
        let pty = Pty::open(100, 30).unwrap();
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "stty size; test -t 0 && echo tty"]);
        pty.attach(&mut cmd).unwrap();
        let mut child = cmd.spawn().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let reader = pty.drain(Arc::clone(&stop)).unwrap();
        assert!(child.wait().unwrap().success());
        stop.store(true, Ordering::Relaxed);
        let out = readable(&reader.join().unwrap());
        assert_eq!(out, "30 100\ntty");
    }
}
