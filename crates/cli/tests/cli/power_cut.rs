//! `zklink devnet` and its anvils killed together (SIGKILL, as in a power cut) at random points
//! while deposits, transfers and blocks are in flight, and started again each time: every start
//! resumes, no tx the node acknowledged is lost, and in the end every sealed block is executed on
//! every chain with the L2 balance matching what L1 holds.
//!
//! The points are random but reproducible: the seed is printed, and `ZKLINK_POWER_CUT_SEED`
//! replays a run. Skips (with a message) without the pinned anvil, unless `CI=true`.

use std::time::{Duration, Instant};

use crate::devnet_process::*;
use crate::support::*;
use alloy::primitives::{Address, B256, U256};
use alloy::providers::Provider;
use zklink_types::test_utils::E18;
use zklink_types::{ChainId, Network, TokenId};

/// The native coin of the test chains.
const ETH: TokenId = TokenId(zklink_l1::NATIVE_TOKEN_ID);

/// Anvil's dev account 2 (public): receives the transfers.
const FRIEND_KEY: &str = "5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";

/// Power cuts per run.
const CUTS: usize = 3;

/// xorshift64: enough to spread the cuts, and reproducible from its seed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_devnet_killed_with_its_anvils_at_any_point_resumes() {
    if !have_anvil() {
        return;
    }
    let _alone = crate::ONE_DEVNET_AT_A_TIME.lock().await;
    block_key(&Network::dev(3));
    let seed = std::env::var("ZKLINK_POWER_CUT_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1
    });
    println!("power cut seed {seed} (ZKLINK_POWER_CUT_SEED={seed} replays it)");
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().unwrap();
    let ports = Ports::pick();
    let url = ports.api();
    // The venue's own crash safety is `exchange_crash`'s, the pools' restart `newcomer`'s; here only
    // the chains and the node.
    let args = ["--block-sizes", "4", "--no-exchange", "--no-pools"];
    let friend: Address = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC".parse().unwrap();

    let began = Instant::now();
    let mut devnet = DevnetProcess::start(dir.path(), ports, &args);
    let w = connect(&mut devnet, &url).await;
    println!("fresh devnet up after {:?}", began.elapsed());
    let chains = manifest(dir.path());
    let l1 = clients(&chains);
    w.deposit(ChainId(1), l1_url(chains[0].0), ETH, 10 * E18, false).await.unwrap();
    wait_for("the first deposit", DEADLINE, async || {
        w.account().await.unwrap().is_some_and(|a| a.balance(0, ETH.0) > 0)
    })
    .await;
    w.change_pubkey(ChainId(1), ETH, 0).await.unwrap();
    let mut acknowledged = 1; // txs the node answered with a hash: the nonce never goes below

    for cut in 0..CUTS {
        // A deposit (L1) and a transfer (L2), then the pipeline moving the block through the
        // chains: the cut falls anywhere from before the deposit is saved to mid-proof.
        let chain = cut % 3;
        let after = Duration::from_millis(rng.below(3_000));
        println!("cut {cut}: after {after:?}");
        let traffic = async {
            let _ = w.deposit(ChainId(chain as u8 + 1), l1_url(chains[chain].0), ETH, E18 / 10, false).await;
            let _ = w.transfer(friend, ETH, E18 / 100, 0).await;
            std::future::pending::<()>().await;
        };
        tokio::select! {
            () = traffic => {}
            () = tokio::time::sleep(after) => {}
        }
        // Counted only if it answered before the cut (a select drops the unfinished call).
        acknowledged = w.account().await.map_or(acknowledged, |a| a.map_or(acknowledged, |a| a.nonce));
        devnet.kill_with_anvils();

        devnet = DevnetProcess::start(dir.path(), ports, &args);
        let resumed = connect(&mut devnet, &url).await;
        wait_for("the resumed devnet's log", DEADLINE, async || devnet.log_text().contains("resumed from")).await;
        let account = resumed.account().await.unwrap().unwrap();
        assert!(account.nonce >= acknowledged, "cut {cut}: nonce {} < {acknowledged} acknowledged", account.nonce);
        acknowledged = account.nonce;
        println!("cut {cut}: resumed after {:?}", began.elapsed());
    }

    // After the last start: every ETH locked in the contracts is a deposit credited on L2, to the
    // wallet or sent on to the friend (none lost by a cut, none credited twice), and every sealed
    // block is executed on every chain.
    let w = connect(&mut devnet, &url).await;
    let friend_wallet = zklink_sdk::Wallet::connect(&url, &FRIEND_KEY.parse::<B256>().unwrap().0).await.unwrap();
    w.transfer(friend, ETH, E18 / 100, 0).await.unwrap();
    let mut locked = U256::ZERO;
    for (port, zklink) in &chains {
        locked +=
            alloy::providers::ProviderBuilder::new().connect_http(l1_url(*port)).get_balance(*zklink).await.unwrap();
    }
    let on_l2 = async || {
        let mine = w.account().await.unwrap().map_or(0, |a| a.balance(0, ETH.0));
        let friends = friend_wallet.account().await.unwrap().map_or(0, |a| a.balance(0, ETH.0));
        U256::from(mine + friends)
    };
    wait_for("every deposit on L1 credited on L2", DEADLINE, async || on_l2().await >= locked).await;
    assert_eq!(on_l2().await, locked, "L2 balances = ETH locked in the contracts");
    println!("credited after {:?}", began.elapsed());
    wait_executed(&w, &l1, 1).await;
    println!("executed everywhere after {:?}", began.elapsed());
    devnet.interrupt();
}
