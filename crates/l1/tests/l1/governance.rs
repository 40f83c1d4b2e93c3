//! Governance on anvil: the governor is a Timelock, so every change waits out its delay — token
//! listing (a fee-on-transfer token, then pausing it), an oracle-set change and an upgrade of
//! the implementation — and is rejected before it, after the grace period, when cancelled, from
//! anyone but the admin, or for an implementation of another network.
//!
//! Skips (with a message) without the pinned anvil, unless `CI=true`.

use crate::support::*;
use alloy::eips::BlockNumberOrTag;
use alloy::primitives::{Address, Bytes, U256};
use alloy::providers::Provider;
use alloy::sol_types::SolCall;
use zklink_contracts::zklink::{Config, TestToken, Timelock::TimelockErrors as T, ZkLink, ZkLinkPeriphery as P};
use zklink_l1::{L1Error, TestChain, TimelockClient};
use zklink_types::test_utils::E18;
use zklink_types::Network;

const DELAY: u64 = 3_600;
const FEE_TOKEN: u16 = 40;

async fn now(chain: &TestChain) -> u64 {
    let block = chain.client.provider().get_block_by_number(BlockNumberOrTag::Latest).await.unwrap().unwrap();
    block.header.timestamp
}

fn timelock_revert<T: std::fmt::Debug>(r: Result<T, L1Error>) -> zklink_contracts::zklink::Timelock::TimelockErrors {
    match r {
        Err(e) => e.timelock_revert().cloned().unwrap_or_else(|| panic!("not a Timelock revert: {e}")),
        Ok(v) => panic!("expected a revert, got {v:?}"),
    }
}

/// Queues `data` to the deployment, waits out the delay and executes it.
async fn govern(chain: &TestChain, tl: &TimelockClient, data: Vec<u8>) -> Result<(), L1Error> {
    let eta = now(chain).await + DELAY + 10;
    tl.queue(chain.client.address(), data.clone().into(), eta).await?;
    chain.advance_time(DELAY + 20).await?;
    tl.execute(chain.client.address(), data.into(), eta).await.map(drop)
}

#[tokio::test(flavor = "current_thread")]
async fn governance_waits_for_the_timelock() {
    if !have_anvil() {
        return;
    }
    let chains = start(Network::dev(1), TestKeys::default(), 100, Some(DELAY)).await;
    let c = chains.chain(1);
    let provider = c.anvil.provider(0).unwrap();
    let timelock = c.deployment.timelock.expect("a timelock governor");
    assert_eq!(c.client.zklink().governor().call().await.unwrap(), timelock);
    let tl = TimelockClient::new(provider.clone(), timelock);
    let target = c.client.address();

    // The deployer is no longer governor, and only the admin queues.
    let direct = zklink_l1::client::send("setValidator", c.client.periphery().setValidator(Address::ZERO, true)).await;
    assert!(matches!(revert(direct), ZkLink::ZkLinkErrors::NotGovernor(_)));
    let outsider = TimelockClient::new(c.anvil.provider(3).unwrap(), timelock);
    assert!(matches!(
        timelock_revert(outsider.queue(target, Bytes::new(), now(c).await + 2 * DELAY).await),
        T::NotAdmin(_)
    ));

    // List a fee-on-transfer token: too soon, too early, then after the delay.
    let fee_token = *TestToken::deploy(provider.clone(), "Fee".into(), "FEE".into(), 18, 100).await.unwrap().address();
    let list =
        P::addTokenCall { tokenId: FEE_TOKEN, token: fee_token, decimals: 18, maxDeposit: 1_000 * E18 }.abi_encode();
    let soon = now(c).await + DELAY / 2;
    assert!(matches!(timelock_revert(tl.queue(target, list.clone().into(), soon).await), T::EtaTooSoon(_)));
    let eta = now(c).await + DELAY + 10;
    tl.queue(target, list.clone().into(), eta).await.unwrap();
    assert!(matches!(timelock_revert(tl.execute(target, list.clone().into(), eta).await), T::TooEarly(_)));
    assert!(!c.client.zklink().tokens(FEE_TOKEN).call().await.unwrap().registered);
    c.advance_time(DELAY + 20).await.unwrap();
    tl.execute(target, list.clone().into(), eta).await.unwrap();
    assert!(c.client.zklink().tokens(FEE_TOKEN).call().await.unwrap().registered);
    assert!(matches!(timelock_revert(tl.execute(target, list.into(), eta).await), T::NotQueued(_)), "executed once");

    // A 1 % transfer fee: the deposit credits what arrived.
    let fee = TestToken::new(fee_token, c.anvil.provider(1).unwrap());
    let depositor = c.client_for(1).unwrap();
    fee.mint(c.anvil.address(1).unwrap(), U256::from(200 * E18)).send().await.unwrap().get_receipt().await.unwrap();
    fee.approve(target, U256::MAX).send().await.unwrap().get_receipt().await.unwrap();
    let r = depositor.deposit_erc20(fee_token, 100 * E18, Address::repeat_byte(1), 0, false).await.unwrap();
    let queued = r.decoded_log::<ZkLink::NewPriorityRequest>().unwrap();
    assert_eq!(u128::from_be_bytes(queued.pubData[11..27].try_into().unwrap()), 99 * E18, "credited what arrived");

    // Pausing stops deposits.
    govern(c, &tl, P::setTokenPausedCall { tokenId: FEE_TOKEN, paused: true }.abi_encode()).await.unwrap();
    let paused = depositor.deposit_erc20(fee_token, E18, Address::repeat_byte(1), 0, false).await;
    assert!(matches!(revert(paused), ZkLink::ZkLinkErrors::DepositsPaused(_)));

    // A new oracle set.
    let set = vec![Address::repeat_byte(1), Address::repeat_byte(2)];
    govern(c, &tl, P::setOracleSetCall { members: set.clone(), threshold: 2 }.abi_encode()).await.unwrap();
    assert_eq!(c.client.periphery().oracles().call().await.unwrap(), set);
    assert_eq!(c.client.zklink().oracleThreshold().call().await.unwrap(), 2);

    // Upgrade to a new implementation of the same chain; one of another network is refused.
    let config = |network_id| Config {
        networkId: network_id,
        chainId: 1,
        chainCount: 1,
        dataAvailability: true,
        accountBits: chains.network.preset.account_bits as u8,
        subAccountBits: chains.network.preset.sub_account_bits as u8,
        priorityExpirationBlocks: 100,
    };
    let periphery = c.deployment.periphery;
    let next = *ZkLink::deploy(provider.clone(), config(chains.network.network_id), periphery).await.unwrap().address();
    let foreign =
        *ZkLink::deploy(provider.clone(), config(chains.network.network_id + 1), periphery).await.unwrap().address();
    let refused = govern(c, &tl, P::upgradeToCall { implementation_: foreign }.abi_encode()).await;
    assert!(matches!(timelock_revert(refused), T::CallFailed(_)), "another network's implementation");
    govern(c, &tl, P::upgradeToCall { implementation_: next }.abi_encode()).await.unwrap();
    assert_eq!(c.client.periphery().implementation().call().await.unwrap(), next);
    assert!(c.client.zklink().tokens(FEE_TOKEN).call().await.unwrap().paused, "storage survives the upgrade");
    let again = zklink_l1::client::send(
        "initialize",
        c.client.zklink().initialize(Address::repeat_byte(5), Default::default()),
    )
    .await;
    assert!(matches!(revert(again), ZkLink::ZkLinkErrors::AlreadyInitialized(_)));

    // A call not executed within the grace period goes stale; a cancelled one is gone.
    let unpause = P::setTokenPausedCall { tokenId: FEE_TOKEN, paused: false }.abi_encode();
    let eta = now(c).await + DELAY + 10;
    tl.queue(target, unpause.clone().into(), eta).await.unwrap();
    c.advance_time(DELAY + 15 * 24 * 3_600).await.unwrap();
    assert!(matches!(timelock_revert(tl.execute(target, unpause.clone().into(), eta).await), T::Stale(_)));
    let eta = now(c).await + DELAY + 10;
    tl.queue(target, unpause.clone().into(), eta).await.unwrap();
    tl.cancel(target, unpause.clone().into(), eta).await.unwrap();
    c.advance_time(DELAY + 20).await.unwrap();
    assert!(matches!(timelock_revert(tl.execute(target, unpause.into(), eta).await), T::NotQueued(_)));
}
