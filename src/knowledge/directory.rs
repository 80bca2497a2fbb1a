//! The directory the index lives in: tantivy's memory-mapped directory,
//! without `fsync`.
//!
//! The index is a cache of the notes.  What must hold is that killing Emacs
//! in the middle of an update leaves the previous commit searchable; that
//! comes from writing every file of a commit before `meta.json` replaces the
//! previous one with an atomic rename, and data written by a process survives
//! its death in the page cache.  Flushing each file to the disk on every
//! commit (seven or more `fsync` calls) only adds protection against the
//! machine itself crashing, and costs most of the time of reindexing one
//! saved note.  If a crash of the machine ever leaves a torn index, opening
//! it fails and it is rebuilt from the notes.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tantivy::directory::error::{
    DeleteError, LockError, OpenDirectoryError, OpenReadError, OpenWriteError,
};
use tantivy::directory::{
    AntiCallToken, Directory, DirectoryLock, FileHandle, Lock, MmapDirectory, TerminatingWrite,
    WatchCallback, WatchHandle, WritePtr,
};

/// A memory-mapped directory whose writes are not flushed to the disk.
#[derive(Clone, Debug)]
pub struct CacheDirectory {
    inner: MmapDirectory,
    root: PathBuf,
}

impl CacheDirectory {
    /// Opens the existing directory `root`.
    pub fn open(root: &Path) -> Result<CacheDirectory, OpenDirectoryError> {
        Ok(CacheDirectory {
            inner: MmapDirectory::open(root)?,
            root: root.to_path_buf(),
        })
    }
}

/// A file written without `fsync` on completion.
struct UnsyncedFile(File);

impl Write for UnsyncedFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

impl TerminatingWrite for UnsyncedFile {
    fn terminate_ref(&mut self, _: AntiCallToken) -> io::Result<()> {
        self.0.flush()
    }
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

impl Directory for CacheDirectory {
    fn get_file_handle(&self, path: &Path) -> Result<Arc<dyn FileHandle>, OpenReadError> {
        self.inner.get_file_handle(path)
    }

    fn delete(&self, path: &Path) -> Result<(), DeleteError> {
        self.inner.delete(path)
    }

    fn exists(&self, path: &Path) -> Result<bool, OpenReadError> {
        self.inner.exists(path)
    }

    fn open_write(&self, path: &Path) -> Result<WritePtr, OpenWriteError> {
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(self.root.join(path))
            .map_err(|e| {
                if e.kind() == io::ErrorKind::AlreadyExists {
                    OpenWriteError::FileAlreadyExists(path.to_path_buf())
                } else {
                    OpenWriteError::wrap_io_error(e, path.to_path_buf())
                }
            })?;
        Ok(BufWriter::new(Box::new(UnsyncedFile(file))))
    }

    fn atomic_read(&self, path: &Path) -> Result<Vec<u8>, OpenReadError> {
        self.inner.atomic_read(path)
    }

    /// Writes `data` to a temporary file next to `path` and renames it over
    /// `path`: readers see the old content or the new one, never a mix.
    fn atomic_write(&self, path: &Path, data: &[u8]) -> io::Result<()> {
        let target = self.root.join(path);
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!(".{}.artisan-{}-{n}.tmp", path.display(), std::process::id());
        let temp = self.root.join(name);
        let result = fs::write(&temp, data).and_then(|()| fs::rename(&temp, &target));
        if result.is_err() {
            let _ = fs::remove_file(&temp);
        }
        result
    }

    fn sync_directory(&self) -> io::Result<()> {
        Ok(())
    }

    fn acquire_lock(&self, lock: &Lock) -> Result<DirectoryLock, LockError> {
        self.inner.acquire_lock(lock)
    }

    fn watch(&self, watch_callback: WatchCallback) -> tantivy::Result<WatchHandle> {
        self.inner.watch(watch_callback)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::walk::tempfile_lite::TempDir;

    #[test]
    fn atomic_writes_replace_the_whole_file_and_leave_no_temporaries() {
        let t = TempDir::new("dir");
        let d = CacheDirectory::open(t.path()).unwrap();
        d.atomic_write(Path::new("meta.json"), b"first version")
            .unwrap();
        d.atomic_write(Path::new("meta.json"), b"second").unwrap();
        assert_eq!(d.atomic_read(Path::new("meta.json")).unwrap(), b"second");
        let names: Vec<String> = fs::read_dir(t.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        assert_eq!(names, vec!["meta.json"]);
    }

    #[test]
    fn open_write_refuses_to_overwrite() {
        let t = TempDir::new("dir");
        let d = CacheDirectory::open(t.path()).unwrap();
        let mut w = d.open_write(Path::new("a")).unwrap();
        w.write_all(b"data").unwrap();
        w.terminate().unwrap();
        assert!(matches!(
            d.open_write(Path::new("a")),
            Err(OpenWriteError::FileAlreadyExists(_))
        ));
        assert_eq!(fs::read(t.path().join("a")).unwrap(), b"data");
    }
}
