//! The devnet's child processes beyond its own handles: anvils an earlier devnet left running.

use std::path::Path;
#[cfg(target_os = "linux")]
use std::path::PathBuf;

#[cfg(target_os = "linux")]
use anyhow::{bail, Context};
#[cfg(target_os = "linux")]
use zklink_contracts::anvil::STOP_TIMEOUT;

/// Anvils of a devnet killed with SIGKILL outlive it (they run in process groups of their own):
/// finds them by the process ids recorded in `dir` (`chain-<n>.pid`), saves each one's chain to
/// its state file (it may hold L1 transactions newer than the last save) and kills it, so that the
/// chains on disk are complete and their ports free. Refuses if the devnet that started them
/// still runs. Linux only (it reads /proc); elsewhere a leftover anvil makes the start fail on
/// its port.
///
/// `ports` are the chains' ports as the manifest recorded them (none before a first deployment):
/// an anvil started on port 0 shows only that in its command line.
pub(super) async fn stop_leftover_anvils(dir: &Path, chains: u8, ports: &[u16]) -> anyhow::Result<()> {
    #[cfg(target_os = "linux")]
    for chain in 1..=chains {
        let pid_file = zklink_l1::pid_file(dir, chain);
        let Some(pid) = std::fs::read_to_string(&pid_file).ok().and_then(|p| p.trim().parse::<u32>().ok()) else {
            continue;
        };
        let Some(port) = proc::anvil_port(pid) else { continue };
        if let Some(parent) = proc::parent(pid).filter(|p| proc::is_devnet(*p)) {
            bail!("another zklink devnet (pid {parent}) is running on {}", dir.display());
        }
        let port = if port == 0 { ports.get(usize::from(chain) - 1).copied().unwrap_or(0) } else { port };
        eprintln!("stopping anvil {pid}, left running on {} by an earlier devnet…", dir.display());
        if port != 0 {
            let url = format!("http://127.0.0.1:{port}").parse().context("the leftover anvil's URL")?;
            let state: PathBuf = zklink_l1::state_file(dir, chain);
            match zklink_contracts::anvil::dump_state_at(&url, &state).await {
                Ok(head) => eprintln!("saved its chain up to block {head}"),
                // Its last save stands: the node never read past it.
                Err(e) => eprintln!("could not save its chain ({e}); its last save stands"),
            }
        }
        proc::kill(pid, STOP_TIMEOUT);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (dir, chains, ports);
    Ok(())
}

/// Other processes, through /proc.
#[cfg(target_os = "linux")]
mod proc {
    use std::path::Path;
    use std::time::{Duration, Instant};

    fn args(pid: u32) -> Vec<String> {
        let raw = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        raw.split(|b| *b == 0).filter(|a| !a.is_empty()).map(|a| String::from_utf8_lossy(a).into_owned()).collect()
    }

    /// The port of process `pid` if it is an anvil (`--port <n>`).
    pub(super) fn anvil_port(pid: u32) -> Option<u16> {
        let args = args(pid);
        if args.first().is_none_or(|a| Path::new(a).file_name().is_none_or(|n| n != "anvil")) || !running(pid) {
            return None;
        }
        args.iter().skip_while(|a| *a != "--port").nth(1)?.parse().ok()
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

    /// SIGKILL, then waits at most `timeout` for it to be gone.
    pub(super) fn kill(pid: u32, timeout: Duration) {
        signal(pid, "-KILL");
        let deadline = Instant::now() + timeout;
        while running(pid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
