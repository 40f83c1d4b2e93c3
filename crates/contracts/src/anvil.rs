//! A local anvil (the EVM dev node) for tests and the devnet: the build pinned in
//! `tools/l1/package-lock.json` (`npm ci --prefix tools/l1`), listening on 127.0.0.1 on a port the
//! OS picks (or a fixed one), with a chosen chain id, killed when the [`Anvil`] handle is dropped.
//!
//! With [`AnvilOptions::state`] the chain persists: anvil loads the file at start if it exists,
//! and [`Anvil::dump_state`] writes the whole chain there (blocks, receipts and logs included)
//! atomically: a process killed at any instant leaves the previous dump or the new one, never a
//! torn file. anvil's own `--state-interval` and exit dumps write the file in place, so they are
//! not used; the owner decides when to dump and knows which block each dump holds.
//!
//! `tools/l1/node_modules/.bin/anvil` is a Node wrapper (`@foundry-rs/anvil/bin.mjs`) that runs the
//! native binary from the platform package `@foundry-rs/anvil-<os>-<arch>` as a child process.
//! Killing the wrapper would leave that child running, so [`Anvil::spawn`] starts the native binary
//! the wrapper would run ([`anvil_binary`]) directly.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, B256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use alloy::transports::http::reqwest::Url;

/// How long [`Anvil::spawn`] waits for the node to listen (it takes ~0.1 s on the 2-core VM).
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// Errors starting a local anvil.
#[derive(thiserror::Error, Debug)]
pub enum AnvilError {
    /// The pinned anvil is not installed.
    #[error("anvil is not installed at {path}: run `npm ci --prefix tools/l1` (needs node and npm)")]
    BinaryMissing {
        /// Where it was looked for.
        path: PathBuf,
    },
    /// This OS / architecture has no anvil package on npm.
    #[error("no prebuilt anvil for {os}/{arch} in @foundry-rs/anvil")]
    UnsupportedPlatform {
        /// `std::env::consts::OS`.
        os: &'static str,
        /// `std::env::consts::ARCH`.
        arch: &'static str,
    },
    /// The process could not be started.
    #[error("starting {path}: {source}")]
    Spawn {
        /// The binary.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// anvil exited, or did not report a listening address in time.
    #[error("anvil did not start ({reason}); its stderr: {stderr}")]
    Startup {
        /// What happened.
        #[source]
        reason: ProcessFailure,
        /// The tail of anvil's stderr.
        stderr: String,
    },
    /// anvil printed something this module cannot parse.
    #[error("unexpected anvil output: {0}")]
    Output(String),
    /// Dumping the chain's state to its file failed.
    #[error("dumping anvil's state to {path}: {reason}", path = path.display())]
    Dump {
        /// The state file.
        path: PathBuf,
        /// What failed.
        reason: String,
    },
    /// anvil did not exit cleanly when asked to stop: its state file may miss the latest blocks.
    #[error("anvil (chain id {chain_id}) did not stop cleanly ({reason}); its stderr: {stderr}")]
    Stop {
        /// The chain id it ran.
        chain_id: u64,
        /// What happened.
        #[source]
        reason: ProcessFailure,
        /// The tail of anvil's stderr.
        stderr: String,
    },
}

/// What the anvil process did instead of starting, or stopping, cleanly.
#[derive(thiserror::Error, Debug)]
pub enum ProcessFailure {
    /// It printed no listening address in time.
    #[error("no listening address after {0:?}")]
    NoAddress(Duration),
    /// It exited (by itself, or with a failure status when asked to stop).
    #[error("exited: {0}")]
    Exited(ExitStatus),
    /// It did not exit in time after being asked to stop, and was killed.
    #[error("still running after {0:?}; killed")]
    StillRunning(Duration),
    /// Waiting for the process failed (when stopping, it was killed then).
    #[error("waiting for it failed: {0}")]
    Wait(#[source] std::io::Error),
}

/// The workspace root (two levels above this crate's manifest).
pub fn workspace_root() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    dir.parent().and_then(Path::parent).map_or_else(|| dir.to_path_buf(), Path::to_path_buf)
}

/// The npm `@foundry-rs/anvil` platform package name suffix for this machine.
fn platform() -> Result<&'static str, AnvilError> {
    use std::env::consts::{ARCH, OS};
    Ok(match (OS, ARCH) {
        ("linux", "x86_64") => "linux-amd64",
        ("linux", "aarch64") => "linux-arm64",
        ("macos", "x86_64") => "darwin-amd64",
        ("macos", "aarch64") => "darwin-arm64",
        ("windows", "x86_64") => "win32-amd64",
        (os, arch) => return Err(AnvilError::UnsupportedPlatform { os, arch }),
    })
}

/// The native anvil binary installed by `npm ci --prefix tools/l1`
/// (`tools/l1/node_modules/@foundry-rs/anvil-<platform>/bin/anvil`), if it is there.
pub fn anvil_binary() -> Result<PathBuf, AnvilError> {
    let exe = if cfg!(windows) { "anvil.exe" } else { "anvil" };
    let path = workspace_root()
        .join("tools/l1/node_modules/@foundry-rs")
        .join(format!("anvil-{}", platform()?))
        .join("bin")
        .join(exe);
    if path.is_file() {
        Ok(path)
    } else {
        Err(AnvilError::BinaryMissing { path })
    }
}

/// How long [`Anvil::stop`] callers usually give anvil to dump its state and exit.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// How to start an anvil beyond its chain id. The default is what [`Anvil::spawn`] does: a port
/// the OS picks, nothing on disk, the caller's process group.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AnvilOptions {
    /// The port to listen on (127.0.0.1); 0 lets the OS pick one.
    pub port: u16,
    /// The chain's state file: loaded at start if it exists (`--load-state`), written by
    /// [`Anvil::dump_state`].
    pub state: Option<PathBuf>,
    /// Start anvil in a process group of its own (Unix), so that the Ctrl-C a terminal sends to
    /// the foreground group does not reach it: the owner then stops it with [`Anvil::stop`] when
    /// it is done with the chain, after its own shutdown.
    pub own_process_group: bool,
}

/// A running anvil. Dropping it kills the process.
#[derive(Debug)]
pub struct Anvil {
    child: Child,
    port: u16,
    chain_id: u64,
    keys: Vec<B256>,
    state: Option<PathBuf>,
    stderr: Arc<Mutex<String>>,
}

impl Anvil {
    /// Starts the pinned anvil ([`anvil_binary`]) on 127.0.0.1 with `chain_id`.
    pub fn spawn(chain_id: u64) -> Result<Self, AnvilError> {
        Self::spawn_with(&anvil_binary()?, chain_id, &[])
    }

    /// Starts the pinned anvil ([`anvil_binary`]) on 127.0.0.1 with `chain_id` and `options`.
    pub fn spawn_with_options(chain_id: u64, options: &AnvilOptions) -> Result<Self, AnvilError> {
        Self::spawn_inner(&anvil_binary()?, chain_id, options, &[])
    }

    /// Starts `binary` (an anvil) on 127.0.0.1, on a port the OS picks, with `chain_id` and any
    /// `extra_args`, and waits (at most [`STARTUP_TIMEOUT`]) until it listens.
    pub fn spawn_with(binary: &Path, chain_id: u64, extra_args: &[&str]) -> Result<Self, AnvilError> {
        Self::spawn_inner(binary, chain_id, &AnvilOptions::default(), extra_args)
    }

    fn spawn_inner(
        binary: &Path,
        chain_id: u64,
        options: &AnvilOptions,
        extra_args: &[&str],
    ) -> Result<Self, AnvilError> {
        let mut command = Command::new(binary);
        command
            .args(["--host", "127.0.0.1", "--port"])
            .arg(options.port.to_string())
            .arg("--chain-id")
            .arg(chain_id.to_string());
        if let Some(state) = options.state.as_deref().filter(|s| s.exists()) {
            command.arg("--load-state").arg(state);
        }
        #[cfg(unix)]
        if options.own_process_group {
            std::os::unix::process::CommandExt::process_group(&mut command, 0);
        }
        let mut child = command
            .args(extra_args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| AnvilError::Spawn { path: binary.to_path_buf(), source })?;

        // Both pipes are drained for the whole life of the process (anvil logs every request), so
        // it never blocks on a full pipe. Stdout lines are forwarded until it listens.
        let stderr = Arc::new(Mutex::new(String::new()));
        if let Some(pipe) = child.stderr.take() {
            let sink = Arc::clone(&stderr);
            std::thread::spawn(move || drain_tail(pipe, &sink));
        }
        let (tx, rx) = mpsc::channel::<String>();
        if let Some(pipe) = child.stdout.take() {
            std::thread::spawn(move || {
                let mut lines = BufReader::new(pipe).lines();
                for line in lines.by_ref().map_while(Result::ok) {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
                // Startup is over (the receiver is gone): keep draining.
                lines.for_each(drop);
            });
        }

        // Build the handle first: on any error below, dropping it kills the process.
        let mut anvil = Self { child, port: 0, chain_id, keys: Vec::new(), state: options.state.clone(), stderr };
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        let mut in_keys = false;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = match rx.recv_timeout(left) {
                Ok(line) => line,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    return Err(anvil.startup_error(ProcessFailure::NoAddress(STARTUP_TIMEOUT)))
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let failure = anvil.child.wait().map_or_else(ProcessFailure::Wait, ProcessFailure::Exited);
                    // Let the stderr thread catch up with the last lines before reporting.
                    std::thread::sleep(Duration::from_millis(100));
                    return Err(anvil.startup_error(failure));
                }
            };
            let line = line.trim();
            if let Some(addr) = line.strip_prefix("Listening on ") {
                let port = addr.rsplit_once(':').and_then(|(_, p)| p.parse::<u16>().ok());
                anvil.port = port.ok_or_else(|| AnvilError::Output(line.to_string()))?;
                return Ok(anvil);
            }
            if line == "Private Keys" {
                in_keys = true;
            } else if in_keys && line.starts_with('(') {
                // "(0) 0xac09…"
                let key = line.split_whitespace().nth(1).and_then(|k| k.parse::<B256>().ok());
                anvil.keys.push(key.ok_or_else(|| AnvilError::Output(line.to_string()))?);
            } else if in_keys && !line.is_empty() && !line.starts_with('=') {
                in_keys = false;
            }
        }
    }

    fn startup_error(&self, reason: ProcessFailure) -> AnvilError {
        AnvilError::Startup { reason, stderr: self.stderr_tail() }
    }

    /// The TCP port it listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The chain id it was started with.
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// The state file it loads from and dumps to, if it was started with one.
    pub fn state_file(&self) -> Option<&Path> {
        self.state.as_deref()
    }

    /// Writes the chain to its state file ([`AnvilOptions::state`]) and returns the newest block
    /// the file holds for sure (the head before the dump: later blocks may be in it too). The
    /// file is replaced atomically and synced: a crash at any instant leaves a whole dump.
    pub async fn dump_state(&self) -> Result<u64, AnvilError> {
        let Some(path) = self.state.as_deref() else {
            return Err(AnvilError::Dump { path: PathBuf::new(), reason: "anvil has no state file".into() });
        };
        dump_state_at(&self.endpoint_url(), path).await
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Asks anvil to exit cleanly: SIGINT on Unix (anvil dumps its state file, if it has one,
    /// then exits); elsewhere it is killed. Returns at once; [`Self::wait_stopped`] waits.
    pub fn request_stop(&mut self) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        #[cfg(unix)]
        {
            // `kill -INT <pid>`: no unsafe code and no libc binding for one signal.
            let sent = Command::new("kill")
                .args(["-INT", &self.child.id().to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if sent {
                return;
            }
        }
        let _ = self.child.kill();
    }

    /// Waits at most `timeout` for the process to exit after [`Self::request_stop`], and kills it
    /// (SIGKILL) if it is still running then. An error unless it exited by itself with success
    /// (with a state file: unless the file holds the whole chain).
    pub fn wait_stopped(&mut self, timeout: Duration) -> Result<(), AnvilError> {
        let deadline = Instant::now() + timeout;
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
                waited => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    let reason = match waited {
                        Err(e) => ProcessFailure::Wait(e),
                        Ok(_) => ProcessFailure::StillRunning(timeout),
                    };
                    return Err(self.stop_error(reason));
                }
            }
        };
        if status.success() {
            Ok(())
        } else {
            // Let the stderr thread catch up with the last lines before reporting.
            std::thread::sleep(Duration::from_millis(50));
            Err(self.stop_error(ProcessFailure::Exited(status)))
        }
    }

    fn stop_error(&self, reason: ProcessFailure) -> AnvilError {
        AnvilError::Stop { chain_id: self.chain_id, reason, stderr: self.stderr_tail() }
    }

    /// Stops anvil cleanly ([`Self::request_stop`], then [`Self::wait_stopped`] for at most
    /// `timeout`): with a state file, the file holds the whole chain afterwards.
    pub fn stop(mut self, timeout: Duration) -> Result<(), AnvilError> {
        self.request_stop();
        self.wait_stopped(timeout)
    }

    /// The tail of what anvil wrote to stderr.
    pub fn stderr_tail(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// The HTTP JSON-RPC endpoint, `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// [`Self::endpoint`] as a URL.
    pub fn endpoint_url(&self) -> Url {
        Url::parse(&self.endpoint()).expect("a literal http URL with a numeric port parses")
    }

    /// The private keys of the funded dev accounts anvil printed (10 by default).
    pub fn keys(&self) -> &[B256] {
        &self.keys
    }

    /// A signer for dev account `index`, if anvil created that many.
    pub fn signer(&self, index: usize) -> Option<PrivateKeySigner> {
        self.keys.get(index).and_then(|k| PrivateKeySigner::from_bytes(k).ok())
    }

    /// The address of dev account `index`.
    pub fn address(&self, index: usize) -> Option<Address> {
        self.signer(index).map(|s| s.address())
    }

    /// An HTTP provider that signs with dev account `index` (and fills nonce, gas and chain id).
    /// The nonce is read from the node for every transaction: a cached nonce would be consumed
    /// by a send that fails after filling (e.g. at gas estimation of a reverting call), leaving a
    /// gap that stalls every later transaction.
    pub fn provider(&self, index: usize) -> Option<DynProvider> {
        let wallet = EthereumWallet::from(self.signer(index)?);
        Some(
            ProviderBuilder::new()
                .with_simple_nonce_management()
                .wallet(wallet)
                .connect_http(self.endpoint_url())
                .erased(),
        )
    }
}

impl Drop for Anvil {
    fn drop(&mut self) {
        // SIGKILL (a no-op once it has exited), then reap it so no zombie is left behind.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Writes the state of the anvil at `endpoint` to `path` ([`Anvil::dump_state`]; also for an anvil
/// this process did not start). Returns the head before the dump.
pub async fn dump_state_at(endpoint: &Url, path: &Path) -> Result<u64, AnvilError> {
    use std::io::{Read as _, Write as _};
    let fail = |reason: String| AnvilError::Dump { path: path.to_path_buf(), reason };
    let provider = ProviderBuilder::new().connect_http(endpoint.clone());
    let head = provider.get_block_number().await.map_err(|e| fail(format!("eth_blockNumber: {e}")))?;
    let dump: alloy::primitives::Bytes =
        provider.raw_request("anvil_dumpState".into(), ()).await.map_err(|e| fail(format!("anvil_dumpState: {e}")))?;
    // anvil_dumpState answers gzip; `--load-state` reads plain JSON.
    let mut json = Vec::with_capacity(dump.len() * 8);
    flate2::read::GzDecoder::new(dump.as_ref())
        .read_to_end(&mut json)
        .map_err(|e| fail(format!("the dump is not gzip: {e}")))?;
    let tmp = path.with_extension("json.tmp");
    let written = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(&json)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        // The rename itself is durable once the directory is synced.
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::File::open(dir)?.sync_all()?;
        }
        std::io::Result::Ok(())
    })();
    written.map_err(|e| fail(format!("writing it: {e}")))?;
    Ok(head)
}

/// Reads `pipe` to its end, keeping the last 8 KiB in `sink`.
fn drain_tail(pipe: impl Read, sink: &Mutex<String>) {
    const KEEP: usize = 8 * 1024;
    let mut reader = BufReader::new(pipe);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        if let Ok(mut s) = sink.lock() {
            s.push_str(&String::from_utf8_lossy(&buf));
            if s.len() > 2 * KEEP {
                let mut cut = s.len() - KEEP;
                while !s.is_char_boundary(cut) {
                    cut += 1;
                }
                s.drain(..cut);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::network::TransactionBuilder;
    use alloy::primitives::U256;
    use alloy::rpc::types::TransactionRequest;

    /// Dumped and killed, a chain started with a state file comes back on the same port with
    /// its blocks, receipts and balances.
    #[tokio::test(flavor = "current_thread")]
    async fn a_stopped_chain_resumes_from_its_state_file() {
        if !crate::test_utils::anvil_available().expect("the pinned anvil is installed") {
            return;
        }
        let dir = std::env::temp_dir().join(format!("zklink-anvil-state-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let state = dir.join("chain.json");
        let options = AnvilOptions { state: Some(state.clone()), ..Default::default() };

        let anvil = Anvil::spawn_with_options(9_001, &options).unwrap();
        let (port, to) = (anvil.port(), anvil.address(1).unwrap());
        let provider = anvil.provider(0).unwrap();
        let tx = TransactionRequest::default().with_to(to).with_value(U256::from(7));
        let receipt = provider.send_transaction(tx).await.unwrap().get_receipt().await.unwrap();
        let _: serde_json::Value = provider.raw_request("anvil_mine".into(), (U256::from(3),)).await.unwrap();
        let height = provider.get_block_number().await.unwrap();
        let balance = provider.get_balance(to).await.unwrap();
        assert!(!state.exists(), "nothing dumped before asked");
        assert!(anvil.dump_state().await.unwrap() >= height, "the dump holds every block so far");
        assert!(state.is_file());
        drop(anvil); // SIGKILL

        let anvil = Anvil::spawn_with_options(9_001, &AnvilOptions { port, ..options }).unwrap();
        assert_eq!((anvil.port(), anvil.state_file()), (port, Some(state.as_path())));
        let provider = anvil.provider(0).unwrap();
        assert_eq!(provider.get_block_number().await.unwrap(), height);
        assert_eq!(provider.get_balance(to).await.unwrap(), balance);
        let again = provider.get_transaction_receipt(receipt.transaction_hash).await.unwrap().expect("kept receipt");
        assert_eq!(again.block_number, receipt.block_number);
        drop(anvil);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
