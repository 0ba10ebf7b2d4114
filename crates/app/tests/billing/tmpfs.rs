//! A small tmpfs mounted for one test, so that a disk can be filled for real.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// A tmpfs mounted on a fresh directory; unmounted and removed when dropped, even when the
/// test fails.
pub struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size_mib` MiB, or says why it cannot (not Linux, not root, no
    /// `mount` command, a container without the capability).
    pub fn mount(size_mib: u32) -> Result<Self, String> {
        if !cfg!(target_os = "linux") {
            return Err("tmpfs mounts need Linux".into());
        }
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "antaeus-tmpfs-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size_mib}m,mode=0700")])
            .arg("tmpfs")
            .arg(&dir)
            .output();
        let why = match mounted {
            Ok(out) if out.status.success() => return Ok(Self { dir }),
            Ok(out) => format!(
                "mount -t tmpfs failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            Err(err) => format!("cannot run mount: {err}"),
        };
        let _ = std::fs::remove_dir(&dir);
        Err(why)
    }

    /// The mount point.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Writes a filler file until the disk is full (ENOSPC), then gives `room` bytes back.
    pub fn fill(&self, room: u64) {
        let mut filler = File::create(self.filler()).expect("create the filler");
        let chunk = vec![0xA5_u8; 1 << 20];
        loop {
            match filler.write_all(&chunk) {
                Ok(()) => {}
                Err(err) if err.kind() == ErrorKind::StorageFull => break,
                Err(err) => panic!("filling the tmpfs: {err}"),
            }
        }
        let written = filler.metadata().expect("filler size").len();
        let file = OpenOptions::new().write(true).open(self.filler()).unwrap();
        file.set_len(written.saturating_sub(room))
            .expect("give room back");
    }

    /// Deletes the filler: space returns.
    pub fn free(&self) {
        std::fs::remove_file(self.filler()).expect("delete the filler");
    }

    fn filler(&self) -> PathBuf {
        self.dir.join("filler")
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Lazily if a file on it is still open (a child not yet reaped): it goes when closed.
        let unmount = |lazy: bool| {
            let mut command = Command::new("umount");
            if lazy {
                command.arg("-l");
            }
            command.arg(&self.dir).status().is_ok_and(|s| s.success())
        };
        if unmount(false) || unmount(true) {
            let _ = std::fs::remove_dir(&self.dir);
        } else {
            eprintln!("could not unmount the test tmpfs {}", self.dir.display());
        }
    }
}

/// Says that `test` did not run, and why, on the terminal.
///
/// Written to stderr directly rather than with `eprintln!`, which the test harness captures
/// and shows only for failing tests: a skipped drill must never pass silently.
pub fn report_skipped(test: &str, why: &str) {
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: cannot mount a tmpfs ({why}); run the tests as root on Linux to drill a full disk"
    );
}
