//! The rollup contract (`contracts/src/ZkLink.sol`) and the test token, seen from Rust: bindings,
//! and what a validator sends to `commitBlocks` for a sealed block, with the `StoredBlockInfo` the
//! contract will keep, computed off-chain exactly as the contract computes it (docs/protocol.md §13).

use alloy::primitives::{keccak256, Bytes, FixedBytes, B256};
use alloy::sol_types::SolValue;
use zklink_block::{fr_to_bytes, Block, BlockError};
use zklink_types::{ChainId, ChangePubKeyAuth, L2Tx, Op};

alloy::sol!(
    /// Bindings for `contracts/src/ZkLink.sol`, generated from its committed artifact.
    #[sol(rpc)]
    #[allow(missing_docs, clippy::too_many_arguments)]
    #[derive(Debug, PartialEq, Eq)]
    ZkLink,
    "../../contracts/artifacts/ZkLink.json"
);

/// `ZkLinkPeriphery` (governance, claims, fast withdrawals, exodus): a module of its own because
/// its bindings repeat the `ZkLinkBase` types; [`periphery_block`] converts a stored block.
pub mod periphery {
    alloy::sol!(
        /// Bindings for `contracts/src/ZkLinkPeriphery.sol`: call them at the proxy's address.
        #[sol(rpc)]
        #[allow(missing_docs, clippy::too_many_arguments)]
        #[derive(Debug, PartialEq, Eq)]
        ZkLinkPeriphery,
        "../../contracts/artifacts/ZkLinkPeriphery.json"
    );
}

pub use periphery::ZkLinkPeriphery;

alloy::sol!(
    /// Bindings for `contracts/src/ZkLinkProxy.sol` (deployment only: it has no functions).
    #[sol(rpc)]
    #[allow(missing_docs)]
    #[derive(Debug, PartialEq, Eq)]
    ZkLinkProxy,
    "../../contracts/artifacts/ZkLinkProxy.json"
);

alloy::sol!(
    /// Bindings for `contracts/src/Timelock.sol`, the governor.
    #[sol(rpc)]
    #[allow(missing_docs)]
    #[derive(Debug, PartialEq, Eq)]
    Timelock,
    "../../contracts/artifacts/Timelock.json"
);

alloy::sol!(
    /// Bindings for `contracts/src/TestToken.sol` (devnets only: anyone can mint).
    #[sol(rpc)]
    #[allow(missing_docs)]
    #[derive(Debug, PartialEq, Eq)]
    TestToken,
    "../../contracts/artifacts/TestToken.json"
);

pub use ZkLink::{CommitBlockInfo, ExecuteBlockInfo};
pub use ZkLinkBase::{Config, StoredBlockInfo};

/// `info` as the periphery bindings type it (the same Solidity struct).
pub fn periphery_block(info: &StoredBlockInfo) -> periphery::ZkLinkBase::StoredBlockInfo {
    periphery::ZkLinkBase::StoredBlockInfo {
        blockNumber: info.blockNumber,
        priorityOperations: info.priorityOperations,
        pendingOnchainOpsHash: info.pendingOnchainOpsHash,
        timestamp: info.timestamp,
        stateRoot: info.stateRoot,
        commitment: info.commitment,
        syncHash: info.syncHash,
    }
}

/// The stored info of block 0 for a network whose genesis state root is `genesis_root`.
pub fn genesis_block(genesis_root: B256) -> StoredBlockInfo {
    StoredBlockInfo {
        blockNumber: 0,
        priorityOperations: 0,
        pendingOnchainOpsHash: B256::ZERO,
        timestamp: 0,
        stateRoot: genesis_root,
        commitment: B256::ZERO,
        syncHash: B256::ZERO,
    }
}

/// `keccak256(abi.encode(info))`: what the contract stores per block.
pub fn stored_block_hash(info: &StoredBlockInfo) -> B256 {
    keccak256(info.abi_encode())
}

/// The `commitBlocks` argument for `block` on chain `chain`, and the `StoredBlockInfo` the
/// contract will store for it after `prev`. `txs` are the block's ops' signed L2 txs (`None`
/// for priority ops), from which change-pubkey authorisations are taken; `data_availability`
/// says whether the chain takes the full pubdata.
pub fn commit_info(
    block: &Block,
    txs: &[Option<L2Tx>],
    chain: ChainId,
    data_availability: bool,
    prev: &StoredBlockInfo,
) -> Result<(CommitBlockInfo, StoredBlockInfo), BlockError> {
    let pubdata = block.pubdata()?;
    let ops = block.onchain_ops(chain)?;
    let auths = txs
        .iter()
        .flatten()
        .filter_map(|tx| match tx {
            L2Tx::ChangePubKey(c) if c.chain_id == chain => Some(match &c.auth {
                ChangePubKeyAuth::EthEcdsa { signature } => Bytes::copy_from_slice(&signature[..]),
                ChangePubKeyAuth::Onchain => Bytes::new(),
            }),
            _ => None,
        })
        .collect();
    let commitment = B256::from(block.commitment()?);
    let info = CommitBlockInfo {
        blockNumber: block.number.0,
        timestamp: block.timestamp,
        newStateRoot: B256::from(fr_to_bytes(&block.new_root)),
        pubdataHash: B256::from(zklink_crypto::sha256(&pubdata)),
        pubdata: if data_availability { pubdata.into() } else { Bytes::new() },
        onchainOps: ops.concat().into(),
        chainHashes: block.chain_hashes()?.into_iter().map(FixedBytes::from).collect(),
        changePubKeyAuth: auths,
    };
    let priority = block.ops.iter().filter(|op| is_priority(op) && op.chain_id() == Some(chain)).count();
    let pending = pending_ops(&ops).fold(B256::ZERO, |acc, op| keccak256([acc.as_slice(), op].concat()));
    let stored = StoredBlockInfo {
        blockNumber: block.number.0,
        priorityOperations: priority as u64,
        pendingOnchainOpsHash: pending,
        timestamp: block.timestamp,
        stateRoot: info.newStateRoot,
        commitment,
        syncHash: B256::from(zklink_block::sync_hash(&prev.syncHash.0, &commitment.0)),
    };
    Ok((info, stored))
}

/// The `executeBlocks` argument for `block` on chain `chain`, stored on that chain as `stored`:
/// the chain's Withdraw, FullExit and ForcedExit ops in block order.
pub fn execute_info(block: &Block, chain: ChainId, stored: &StoredBlockInfo) -> Result<ExecuteBlockInfo, BlockError> {
    let ops = block.onchain_ops(chain)?;
    Ok(ExecuteBlockInfo {
        storedBlock: stored.clone(),
        pendingOnchainOps: pending_ops(&ops).flatten().copied().collect(),
    })
}

/// The on-chain ops that pay out at execution (op codes 0x03, 0x05, 0x07).
fn pending_ops(ops: &[Vec<u8>]) -> impl Iterator<Item = &Vec<u8>> {
    ops.iter().filter(|op| matches!(op[0], 0x03 | 0x05 | 0x07))
}

alloy::sol! {
    /// What oracles sign to sync a block (EIP-712; docs/protocol.md §13).
    struct SyncBlock {
        uint32 networkId;
        uint32 blockNumber;
        bytes32 syncHash;
    }
}

/// The EIP-712 hash an oracle signs to attest `(network_id, block_number, sync_hash)`: domain
/// `{name "zklink oracle", version "1"}` with no chain id or contract, so one signature is valid
/// on every connected chain.
pub fn sync_signing_hash(network_id: u32, block_number: u32, sync_hash: B256) -> B256 {
    use alloy::sol_types::SolStruct;
    let domain = alloy::sol_types::eip712_domain! { name: "zklink oracle", version: "1", };
    SyncBlock { networkId: network_id, blockNumber: block_number, syncHash: sync_hash }.eip712_signing_hash(&domain)
}

fn is_priority(op: &Op) -> bool {
    matches!(op, Op::Deposit(_) | Op::FullExit(_))
}
