//! The Python environment of the router tests (`.venv/`: Crossbar.io and
//! autobahn-python), made on first use.
//!
//! A fresh clone has no `.venv/`, and `cargo test` alone should still work there
//! with just the Rust toolchain and Python 3 with pip. So when the environment is
//! missing, or `scripts/setup` never finished making it, the first router test runs
//! `scripts/setup` itself (the one place that knows the pinned packages) and shows
//! its output. One thread of a test binary does it while the others wait
//! (`OnceLock`); across test processes an exclusive `flock` on `.venv.lock` in the
//! repository lets one run it while the others poll, for at most
//! [`SETUP_TIMEOUT`], then find it made. When it cannot be made (no python3, pip
//! failing, no network) every router test fails with one line that says why and
//! to run `scripts/setup`: never a silent skip.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

/// How long a test process waits for another one's `scripts/setup`: its first run
/// downloads about 400 MB, which takes minutes on a slow network.
const SETUP_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// How often a waiting process tries the lock again.
const LOCK_POLL: Duration = Duration::from_millis(500);

/// `.venv/bin/python` under `root`, after making the environment if need be;
/// `Err` is the one line to show when it cannot be had.
pub fn python(root: &Path) -> Result<PathBuf, String> {
    static PYTHON: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    PYTHON.get_or_init(|| ensure(root)).clone()
}

fn python_path(root: &Path) -> PathBuf {
    root.join(".venv").join("bin").join("python")
}

/// True when `scripts/setup` finished: it writes its stamp file last.
fn is_ready(root: &Path) -> bool {
    python_path(root).exists() && root.join(".venv").join(".izaber-setup-ok").is_file()
}

/// A line on the terminal even while libtest captures the test's output (it
/// captures the print macros only), so a minutes-long setup does not look like a hang.
fn say(message: &str) {
    let _ = writeln!(std::io::stderr(), "test harness: {message}");
}

fn ensure(root: &Path) -> Result<PathBuf, String> {
    if is_ready(root) {
        return Ok(python_path(root));
    }
    let lock_path = root.join(".venv.lock");
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| {
            format!(
                "the router tests need the Python environment .venv/ and cannot lock {} to make it ({e}); run scripts/setup",
                lock_path.display()
            )
        })?;
    // Held until `lock` is dropped, when this function returns.
    lock_exclusive(&lock, &lock_path)?;
    // Another process may have made it while this one waited for the lock.
    if is_ready(root) {
        return Ok(python_path(root));
    }
    let setup = root.join("scripts").join("setup");
    say(&format!(
        "{} is missing or incomplete: running {} to make it (Crossbar.io and \
         autobahn-python; the first run downloads about 400 MB and takes a few minutes)",
        root.join(".venv").display(),
        setup.display()
    ));
    // Its progress goes to stderr, where it shows at once; the test's stdout stays
    // the test harness's.
    let status = Command::new(&setup)
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(Stdio::from(std::io::stderr()))
        .stderr(Stdio::inherit())
        .status()
        .map_err(|e| {
            format!(
                "the router tests need the Python environment .venv/, and {} could not be run to make it ({e}); run scripts/setup",
                setup.display()
            )
        })?;
    if !status.success() || !is_ready(root) {
        return Err(format!(
            "the router tests need the Python environment .venv/ (Crossbar.io and autobahn-python), and scripts/setup \
             failed to make it ({status}; its output is above: it needs python3 >= 3.9 with venv and pip, and network \
             access to PyPI); fix that and run scripts/setup"
        ));
    }
    say("the Python environment is ready");
    Ok(python_path(root))
}

/// Takes an exclusive `flock` on `file`, polling without blocking so the wait is
/// bounded. Closing the file releases it, also when the process dies, so a setup
/// that was killed never leaves the lock behind (and std opens files close-on-exec,
/// so `scripts/setup` and its children do not hold it).
#[cfg(unix)]
fn lock_exclusive(file: &File, path: &Path) -> Result<(), String> {
    use std::os::fd::AsRawFd;
    use std::thread;
    use std::time::Instant;
    let deadline = Instant::now() + SETUP_TIMEOUT;
    let mut said = false;
    loop {
        // SAFETY: flock on a descriptor this File owns and keeps open.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            return Ok(());
        }
        let error = std::io::Error::last_os_error();
        if error.kind() != std::io::ErrorKind::WouldBlock {
            return Err(format!(
                "the router tests need the Python environment .venv/ and cannot lock {} to make it ({error}); run scripts/setup",
                path.display()
            ));
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "another test process has been making the Python environment .venv/ for {SETUP_TIMEOUT:?} \
                 (it holds {}); stop it and run scripts/setup",
                path.display()
            ));
        }
        if !said {
            say("waiting for another test process to make the Python environment .venv/");
            said = true;
        }
        thread::sleep(LOCK_POLL);
    }
}

/// scripts/setup is a bash script making a POSIX venv; elsewhere it is run by hand.
#[cfg(not(unix))]
fn lock_exclusive(_file: &File, _path: &Path) -> Result<(), String> {
    Err(
        "the router tests need the Python environment .venv/, made by scripts/setup (bash); run it"
            .to_string(),
    )
}
