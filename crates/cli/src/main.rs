//! `zklink`: one binary, a subcommand per role. `devnet`, `node`, `exchange`, `prover`, `oracle`, `wallet`,
//! `restore`, `exit-proof` and `bench` (load, devnet, restore, exit-proof, exchange, pools).

#![forbid(unsafe_code)]
// The binary is where output goes: commands print their results for the user.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod bench;
mod bench_exchange;
mod bench_pools;
mod bench_restore;
mod devnet;
mod exchange;
mod node;
mod oracle;
mod paths;
mod prover;
mod restore;
mod wallet;

use clap::{Parser, Subcommand};

/// zklink: a multi-chain trading layer 2 secured by a ZK-rollup.
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a local network: 3 anvil chains with the contracts and test tokens deployed, the node
    /// with an in-process prover and oracles, the JSON-RPC API, an order-book venue and two AMM
    /// pools; the printed dev accounts hold ETH and every test token on every chain. Ctrl-C stops
    /// everything; the next start resumes, also after a crash.
    Devnet(devnet::Args),
    /// Run the operator node against configured chains, with the JSON-RPC API (`--config` file).
    Node(node::Args),
    /// Run an order-book venue against a node (`--config` file: markets, submitter, journal):
    /// signed orders matched by price-time priority, each fill settled on L2 as an OrderMatching;
    /// `exchange audit` replays a venue's public journal and checks L2 against it.
    Exchange(exchange::Args),
    /// Run an independent oracle: read every chain from its own endpoints, attest blocks every
    /// chain proved with the same sync hash, exchange attestations with peers, submit syncBlocks.
    Oracle(oracle::Args),
    /// Run a remote prover worker for a node: lease proof jobs, prove, return the proofs.
    Prover(prover::Args),
    /// Benchmarks (figures for docs/benchmarks.md).
    #[command(subcommand)]
    Bench(BenchCommand),
    /// A user's wallet: derive the L2 key from an L1 key, deposit on any chain (its L1 endpoint
    /// comes from the node), activate, transfer, withdraw, claim on L1, follow a tx (`status
    /// --wait`), mint test tokens on a devnet, trade on a venue, swap and provide liquidity in AMM
    /// pools; `wallet exodus` leaves without the operator.
    Wallet(wallet::Args),
    /// Rebuild the whole L2 state from L1 alone (pubdata from a data-availability chain, blocks
    /// and priority requests from every chain), checked against every chain's executed block.
    /// Continues from an earlier run's state directory; needs nothing from the operator.
    Restore(restore::Args),
    /// Prove an exit (account, sub-account, token, paying chain) from a restored state, against
    /// the chain's last executed block, for `performExodus` once the chain is in exodus.
    ExitProof(restore::ExitArgs),
}

#[derive(Subcommand)]
enum BenchCommand {
    /// API submission throughput and acknowledgement latency, on loopback.
    Load(bench::LoadArgs),
    /// Devnet latencies: deposit → credited, transfer → executed on every chain, withdrawal →
    /// claimable (runs a devnet in-process).
    Devnet(bench::DevnetArgs),
    /// Restore speed: a synthetic history rebuilt from its pubdata through the restore path
    /// (checks, replay, Merkle roots, checkpoints), blocks/s and ops/s with the cost per stage.
    Restore(bench_restore::RestoreArgs),
    /// AMM pools: zklink_quoteSwap latency over loopback (one client, several, and several while
    /// swaps stream in) and executor swaps per second on the main preset's trees beside transfers.
    Pools(bench_pools::PoolsArgs),
    /// Exit-proof time at a preset (witness, synthesis, check, proving).
    ExitProof(bench_restore::ExitArgs),
    /// The venue end to end on loopback: orders accepted per second and acknowledgement
    /// latency, fills settled per second through the node, and where the time goes.
    Exchange(bench_exchange::ExchangeArgs),
}

fn main() -> std::process::ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"))
        // arkworks opens a span per gadget under `gr1cs`: tracing it makes synthesis crawl.
        .add_directive("gr1cs=off".parse().expect("a valid directive"));
    // Logs go to stderr: stdout is each command's own output (reports, JSON), fit for a pipe.
    // Colour only on a terminal (a log file or pipe gets plain text); NO_COLOR turns it off too.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr()) && std::env::var_os("NO_COLOR").is_none();
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi).init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        Command::Devnet(args) => runtime.block_on(devnet::run(args)),
        Command::Wallet(args) => runtime.block_on(wallet::run(args)),
        Command::Node(args) => runtime.block_on(node::run(args)),
        Command::Exchange(args) => runtime.block_on(exchange::run(args)),
        Command::Prover(args) => runtime.block_on(prover::run(args)),
        Command::Oracle(args) => runtime.block_on(oracle::run(args)),
        Command::Restore(args) => runtime.block_on(restore::run(args)),
        Command::ExitProof(args) => runtime.block_on(restore::exit_proof(args)),
        Command::Bench(BenchCommand::Load(args)) => runtime.block_on(bench::load(args)),
        Command::Bench(BenchCommand::Devnet(args)) => runtime.block_on(bench::devnet(args)),
        Command::Bench(BenchCommand::Restore(args)) => bench_restore::restore(args),
        Command::Bench(BenchCommand::Pools(args)) => runtime.block_on(bench_pools::pools(args)),
        Command::Bench(BenchCommand::ExitProof(args)) => bench_restore::exit_proof(args),
        Command::Bench(BenchCommand::Exchange(args)) => runtime.block_on(bench_exchange::exchange(args)),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", report(&e));
            std::process::ExitCode::FAILURE
        }
    }
}

/// The error and its causes, outermost first, joined by ": " (what `{:#}` prints), each message
/// once: the libraries' errors often repeat their source's message in their own, so a cause whose
/// text is already in the report is not printed again.
fn report(err: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::report;

    /// An error that repeats its source's message in its own, as many library errors do.
    #[derive(Debug)]
    struct Repeats(std::io::Error);

    impl std::fmt::Display for Repeats {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "reading the key: {}", self.0)
        }
    }

    impl std::error::Error for Repeats {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn every_cause_is_reported_once() {
        let io = || std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let plain = anyhow::Error::new(io()).context("starting the node");
        assert_eq!(report(&plain), "starting the node: no such file");
        let repeated = anyhow::Error::new(Repeats(io())).context("starting the node");
        assert_eq!(report(&repeated), "starting the node: reading the key: no such file");
    }
}
