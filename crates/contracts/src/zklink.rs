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

alloy::sol!(
    /// Bindings for `contracts/src/TestToken.sol` (devnets only: anyone can mint).
    #[sol(rpc)]
    #[allow(missing_docs)]
    #[derive(Debug, PartialEq, Eq)]
    TestToken,
    "../../contracts/artifacts/TestToken.json"
);

pub use ZkLink::{CommitBlockInfo, StoredBlockInfo};

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
    let pending = ops
        .iter()
        .filter(|op| matches!(op[0], 0x03 | 0x05 | 0x07))
        .fold(B256::ZERO, |acc, op| keccak256([acc.as_slice(), op].concat()));
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

fn is_priority(op: &Op) -> bool {
    matches!(op, Op::Deposit(_) | Op::FullExit(_))
}
