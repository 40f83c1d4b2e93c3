//! Blocks and their commitment (docs/protocol.md §9).
//!
//! ```text
//! H_c         = fold(sha256(H ‖ op pubdata), over chain c's on-chain ops in block order, from 32 zero bytes)
//! commitment  = sha256(block_number u32 ‖ timestamp u64 ‖ old_root ‖ new_root ‖ sha256(pubdata) ‖ H_1 ‖ … ‖ H_n)
//! public input= commitment with its top 3 bits cleared, read big-endian (fits the BN254 field)
//! sync_hash_n = keccak256(sync_hash_{n-1} ‖ commitment_n), sync_hash_0 = 32 zero bytes
//! ```

use ark_ff::PrimeField;
use serde::{Deserialize, Serialize};
use zklink_crypto::{keccak256, sha256, Fr};
use zklink_types::op::decode_pubdata;
use zklink_types::{BlockNumber, ChainId, DecodeError, Op, Preset, TxError, CHUNK_BYTES};

/// Why a block could not be sized, encoded or committed to.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum BlockError {
    /// The ops need more chunks than the block (or the preset's largest shape) has.
    #[error("ops use {used} chunks but the largest block has {max}")]
    TooManyChunks {
        /// Chunks the ops occupy.
        used: usize,
        /// Chunks available.
        max: usize,
    },
    /// The ops credit fees to more distinct balance leaves than the largest block has credit slots.
    #[error("ops credit {keys} distinct balances but the largest block has {max} credit slots")]
    TooManyCredits {
        /// Distinct balance leaves credited.
        keys: usize,
        /// Credit slots of the largest shape.
        max: usize,
    },
    /// An on-chain op names a chain outside the block's chains 1..=n.
    #[error("on-chain op for chain {chain}, but the network has chains 1..={chains}")]
    UnknownChain {
        /// The chain the op names.
        chain: ChainId,
        /// The block's chain count n.
        chains: u8,
    },
    /// An op could not be encoded as pubdata (an amount or fee not packable).
    #[error(transparent)]
    Tx(#[from] TxError),
    /// Pubdata could not be decoded into ops.
    #[error(transparent)]
    Decode(#[from] DecodeError),
}

pub use zklink_crypto::fr_to_bytes;

/// A sealed block: what every chain's contract and the circuit agree on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// The block's height; genesis is 0, so sealed blocks start at 1.
    pub number: BlockNumber,
    /// Seal time in Unix seconds.
    pub timestamp: u64,
    /// State root before the block's first op.
    pub old_root: Fr,
    /// State root after its last op.
    pub new_root: Fr,
    /// Applied ops in order, without padding.
    pub ops: Vec<Op>,
    /// Block size in chunks (one of the preset's shapes); the tail is Noop padding.
    pub chunks: usize,
    /// Number of connected chains n: the commitment carries H_1..H_n.
    pub chain_count: u8,
}

/// The smallest block shape that holds `used` chunks whose ops credit `credit_keys` distinct
/// balance leaves ([`Preset::credit_slots`]).
pub fn block_size_for(preset: &Preset, used: usize, credit_keys: usize) -> Result<usize, BlockError> {
    let max = preset.max_block_chunks();
    if credit_keys > preset.credit_slots(max) {
        return Err(BlockError::TooManyCredits { keys: credit_keys, max: preset.credit_slots(max) });
    }
    preset
        .block_chunk_sizes
        .iter()
        .copied()
        .find(|&s| s >= used && preset.credit_slots(s) >= credit_keys)
        .ok_or(BlockError::TooManyChunks { used, max })
}

/// The distinct balance leaves `ops` credit fees to, in order of first credit, with the sum each
/// receives: what the block's credit slots carry (docs/protocol.md §12).
pub fn block_credits(ops: &[Op]) -> Vec<zklink_types::op::Credit> {
    let mut out: Vec<zklink_types::op::Credit> = Vec::new();
    for c in ops.iter().flat_map(Op::credits) {
        match out.iter_mut().find(|o| o.key() == c.key()) {
            // A block's fees to one leaf fit u128: they were all debited from u128 balances.
            Some(o) => o.amount = o.amount.saturating_add(c.amount),
            None => out.push(c),
        }
    }
    out
}

impl Block {
    /// Chunks the ops occupy, without the Noop padding.
    pub fn used_chunks(&self) -> usize {
        self.ops.iter().map(Op::chunks).sum()
    }

    /// Every op's pubdata in order, then zero chunks (Noop) up to the block size.
    pub fn pubdata(&self) -> Result<Vec<u8>, BlockError> {
        let used = self.used_chunks();
        if used > self.chunks {
            return Err(BlockError::TooManyChunks { used, max: self.chunks });
        }
        let mut out = Vec::with_capacity(self.chunks * CHUNK_BYTES);
        for op in &self.ops {
            out.extend(op.pubdata()?);
        }
        out.resize(self.chunks * CHUNK_BYTES, 0);
        Ok(out)
    }

    /// Pubdata of the on-chain ops belonging to `chain`, in block order: what that chain's
    /// contract receives in `commitBlocks`.
    pub fn onchain_ops(&self, chain: ChainId) -> Result<Vec<Vec<u8>>, BlockError> {
        self.ops.iter().filter(|op| op.chain_id() == Some(chain)).map(|op| Ok(op.pubdata()?)).collect()
    }

    /// H_1..H_n.
    pub fn chain_hashes(&self) -> Result<Vec<[u8; 32]>, BlockError> {
        let mut hashes = vec![[0u8; 32]; self.chain_count as usize];
        for op in &self.ops {
            if let Some(chain) = op.chain_id() {
                let slot = hashes
                    .get_mut((chain.0 as usize).wrapping_sub(1))
                    .ok_or(BlockError::UnknownChain { chain, chains: self.chain_count })?;
                *slot = roll_chain_hash(slot, &op.pubdata()?);
            }
        }
        Ok(hashes)
    }

    /// The block commitment (docs/protocol.md §9): `sha256(number ‖ timestamp ‖ old_root ‖ new_root ‖
    /// sha256(pubdata) ‖ H_1 ‖ … ‖ H_n)`.
    pub fn commitment(&self) -> Result<[u8; 32], BlockError> {
        let pubdata_hash = sha256(&self.pubdata()?);
        Ok(commitment(
            self.number,
            self.timestamp,
            &self.old_root,
            &self.new_root,
            &pubdata_hash,
            &self.chain_hashes()?,
        ))
    }

    /// The proof's public input: [`public_input`] of [`Block::commitment`].
    pub fn public_input(&self) -> Result<Fr, BlockError> {
        Ok(public_input(&self.commitment()?))
    }

    /// Rebuilds the op list from pubdata (restore): trailing Noops are dropped.
    pub fn ops_from_pubdata(pubdata: &[u8]) -> Result<Vec<Op>, BlockError> {
        let mut ops = decode_pubdata(pubdata)?;
        while ops.last() == Some(&Op::Noop) {
            ops.pop();
        }
        Ok(ops)
    }
}

/// One step of a chain's rolling hash.
pub fn roll_chain_hash(prev: &[u8; 32], op_pubdata: &[u8]) -> [u8; 32] {
    let mut buf = Vec::with_capacity(32 + op_pubdata.len());
    buf.extend_from_slice(prev);
    buf.extend_from_slice(op_pubdata);
    sha256(&buf)
}

/// `sha256(number u32 ‖ timestamp u64 ‖ old_root 32 ‖ new_root 32 ‖ pubdata_hash ‖ chain_hashes…)`,
/// integers big-endian and roots as canonical 32-byte big-endian field elements.
pub fn commitment(
    number: BlockNumber,
    timestamp: u64,
    old_root: &Fr,
    new_root: &Fr,
    pubdata_hash: &[u8; 32],
    chain_hashes: &[[u8; 32]],
) -> [u8; 32] {
    let mut buf = Vec::with_capacity(4 + 8 + 32 * (3 + chain_hashes.len()));
    buf.extend_from_slice(&number.0.to_be_bytes());
    buf.extend_from_slice(&timestamp.to_be_bytes());
    buf.extend_from_slice(&fr_to_bytes(old_root));
    buf.extend_from_slice(&fr_to_bytes(new_root));
    buf.extend_from_slice(pubdata_hash);
    for h in chain_hashes {
        buf.extend_from_slice(h);
    }
    sha256(&buf)
}

/// The proof's single public input: the commitment reduced to 253 bits.
pub fn public_input(commitment: &[u8; 32]) -> Fr {
    let mut c = *commitment;
    c[0] &= 0x1f;
    Fr::from_be_bytes_mod_order(&c)
}

/// Next link of the sync-hash chain: `keccak256(prev ‖ commitment)`; `prev` of block 1 is 32 zero bytes.
/// Oracles attest it, so syncing block k covers every block up to k.
pub fn sync_hash(prev: &[u8; 32], commitment: &[u8; 32]) -> [u8; 32] {
    let mut buf = [0u8; 64];
    buf[..32].copy_from_slice(prev);
    buf[32..].copy_from_slice(commitment);
    keccak256(&buf)
}

/// Commitment-related fields of a block as the API and L1 client exchange them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockHeader {
    /// The block's height.
    pub number: BlockNumber,
    /// Seal time in Unix seconds.
    pub timestamp: u64,
    /// State root before the block, 32 bytes big-endian (0x-hex in JSON).
    #[serde(with = "zklink_types::serde_hex")]
    pub old_root: [u8; 32],
    /// State root after the block, 32 bytes big-endian (0x-hex in JSON).
    #[serde(with = "zklink_types::serde_hex")]
    pub new_root: [u8; 32],
    /// The block commitment (0x-hex in JSON).
    #[serde(with = "zklink_types::serde_hex")]
    pub commitment: [u8; 32],
    /// Block size in chunks.
    pub chunks: usize,
}

impl Block {
    /// The block's header, with its commitment computed.
    pub fn header(&self) -> Result<BlockHeader, BlockError> {
        Ok(BlockHeader {
            number: self.number,
            timestamp: self.timestamp,
            old_root: fr_to_bytes(&self.old_root),
            new_root: fr_to_bytes(&self.new_root),
            commitment: self.commitment()?,
            chunks: self.chunks,
        })
    }
}
