//! The devnet's child processes beyond its own handles: anvils an earlier devnet left running.

use std::path::Path;
#[cfg(target_os = "linux")]
use std::path::PathBuf;

#[cfg(target_os = "linux")]
use anyhow::{bail, Context};
#[cfg(target_os = "linux")]
use zklink_contracts::anvil::STOP_TIMEOUT;

/// Anvils of a devnet killed with SIGKILL outlive it (they run in process groups of their own)
/// and keep dumping their state into `dir`: stops them cleanly, so that their chains are complete
/// on disk and their ports free. Refuses if the devnet that started them still runs. Linux only
/// (it reads /proc); elsewhere a leftover anvil makes the start fail on its port.
pub(super) fn stop_leftover_anvils(dir: &Path, chains: u8) -> anyhow::Result<()> {
    #[cfg(target_os = "linux")]
    {
        let ours: Vec<PathBuf> =
            (1..=chains).filter_map(|n| zklink_l1::state_file(dir, n).canonicalize().ok()).collect();
        if ours.is_empty() {
            return Ok(());
        }
        let entries = std::fs::read_dir("/proc").context("listing /proc")?;
        for pid in entries.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok()) {
            if pid == std::process::id() || !proc::state_file(pid).is_some_and(|f| ours.contains(&f)) {
                continue;
            }
            if let Some(parent) = proc::parent(pid).filter(|p| proc::is_devnet(*p)) {
                bail!("another zklink devnet (pid {parent}) is running on {}", dir.display());
            }
            eprintln!("stopping anvil {pid}, left running on {} by an earlier devnet…", dir.display());
            proc::stop(pid, STOP_TIMEOUT);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (dir, chains);
    Ok(())
}

/// Other processes, through /proc.
#[cfg(target_os = "linux")]
mod proc {
    use std::path::{Path, PathBuf};
    use std::time::{Duration, Instant};

    fn args(pid: u32) -> Vec<String> {
        let raw = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        raw.split(|b| *b == 0).filter(|a| !a.is_empty()).map(|a| String::from_utf8_lossy(a).into_owned()).collect()
    }

    /// The state file of an anvil started with `--state <file>`, resolved against its working
    /// directory.
    pub(super) fn state_file(pid: u32) -> Option<PathBuf> {
        let args = args(pid);
        if args.first().is_none_or(|a| Path::new(a).file_name().is_none_or(|n| n != "anvil")) {
            return None;
        }
        let file = args.iter().skip_while(|a| *a != "--state").nth(1)?;
        let cwd = std::fs::read_link(format!("/proc/{pid}/cwd")).ok()?;
        cwd.join(file).canonicalize().ok()
    }

    /// The parent process id.
    pub(super) fn parent(pid: u32) -> Option<u32> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // "pid (comm) state ppid …": comm may hold spaces and parentheses.
        stat.rsplit_once(')')?.1.split_whitespace().nth(1)?.parse().ok()
    }

    /// Whether `pid` is a `zklink devnet`.
    pub(super) fn is_devnet(pid: u32) -> bool {
        let args = args(pid);
        args.first().is_some_and(|a| Path::new(a).file_name().is_some_and(|n| n == "zklink"))
            && args.iter().any(|a| a == "devnet")
    }

    fn running(pid: u32) -> bool {
        // A zombie has exited (its state is dumped); its parent reaps it.
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|s| s.rsplit_once(')').map(|(_, rest)| rest.trim_start().starts_with('Z')))
            .is_some_and(|zombie| !zombie)
    }

    fn signal(pid: u32, signal: &str) {
        let _ = std::process::Command::new("kill").args([signal, &pid.to_string()]).status();
    }

    /// SIGINT (anvil dumps its state and exits), then SIGKILL if it still runs after `timeout`.
    pub(super) fn stop(pid: u32, timeout: Duration) {
        signal(pid, "-INT");
        let deadline = Instant::now() + timeout;
        while running(pid) {
            if Instant::now() >= deadline {
                signal(pid, "-KILL");
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
