//! The node's durable block store (redb): every sealed block with the signed txs that produced it,
//! and each block's proof once a prover returns it. A block is written before anything about it
//! is sent to L1, so after a crash the L1 pipeline finds on disk whatever a chain already holds.
//! Beside them: the write-ahead log of the open block, the queue of accepted txs waiting for an
//! earlier nonce, an index of sealed txs by hash, and the L1 transactions sent for each block.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};
use zklink_block::Block;
use zklink_crypto::{fr_to_bytes, Fr};
use zklink_types::{BlockNumber, L2Tx, Op, PriorityTx, TxHash};

const BLOCKS: TableDefinition<u32, &[u8]> = TableDefinition::new("blocks");
const PROOFS: TableDefinition<u32, &[u8]> = TableDefinition::new("proofs");
/// Txs applied to the open block, in order, written before they are acknowledged.
const WAL: TableDefinition<u64, &[u8]> = TableDefinition::new("wal");
/// Where each sealed L2 tx is: tx hash → (block, op index).
const TX_INDEX: TableDefinition<&[u8; 32], (u32, u32)> = TableDefinition::new("tx_index");
/// Where each sealed priority op is: `priority_key(chain, serial id)` → (block, op index).
const PRIORITY_INDEX: TableDefinition<u64, (u32, u32)> = TableDefinition::new("priority_index");
/// The priority requests taken from L1, by the L1 transaction that queued them: hash → (chain,
/// serial id).
const L1_REQUESTS: TableDefinition<&[u8; 32], (u8, u64)> = TableDefinition::new("l1_requests");
/// Accepted txs waiting for an earlier nonce of their account: tx hash → the tx.
const QUEUE: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("queue");
/// Queued txs that failed when their turn came: tx hash → the reason.
const FAILED: TableDefinition<&[u8; 32], &str> = TableDefinition::new("failed");
/// The L1 transaction that took a block through a stage on a chain: (chain, stage, block) → hash.
const L1_TXS: TableDefinition<(u8, u8, u32), &[u8; 32]> = TableDefinition::new("l1_txs");

/// The key of a priority op in the index: the chain in the top byte, the serial id below.
fn priority_key(chain: u8, serial_id: u64) -> u64 {
    (u64::from(chain) << 56) | (serial_id & ((1 << 56) - 1))
}

/// Errors of the block store.
#[derive(thiserror::Error, Debug)]
pub enum StoreError {
    /// The database failed (I/O, corruption, lock).
    #[error("block store: {0}")]
    Db(#[source] Box<redb::Error>),
    /// A record does not decode: written by another version, or damaged.
    #[error("block store: {record} does not decode: {source}")]
    Corrupt {
        /// Which record (`block 5`, `WAL entry 3`, …).
        record: String,
        /// What the decoder found.
        #[source]
        source: RecordError,
    },
    /// A record could not be encoded.
    #[error("block store: encoding a record: {0}")]
    Encode(#[source] serde_json::Error),
    /// Blocks must be appended in order.
    #[error("block store: expected block {expected}, got {got}")]
    OutOfOrder {
        /// The next number.
        expected: u32,
        /// The number offered.
        got: u32,
    },
}

/// Why a stored record does not decode.
#[derive(thiserror::Error, Debug)]
pub enum RecordError {
    /// Not the JSON this version writes.
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    /// A root that is not hex.
    #[error("root: {0}")]
    Hex(#[from] hex::FromHexError),
    /// A root that is not a canonical field element.
    #[error("root: {0}")]
    Root(#[from] zklink_state::StateError),
    /// A proof of the wrong size.
    #[error("proof of {0} bytes, expected 256")]
    ProofLength(usize),
}

fn db_err(e: impl Into<redb::Error>) -> StoreError {
    StoreError::Db(Box::new(e.into()))
}

/// A sealed block and the txs of its ops (`None` for priority requests), as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredBlock {
    /// The block.
    pub block: Block,
    /// One entry per op.
    pub txs: Vec<Option<L2Tx>>,
    /// The priority requests among its ops, in order (to replay the block).
    pub priority: Vec<PriorityTx>,
    /// Rebuilt from L1 by `zklink restore`: no signed txs (`txs` and `priority` are empty); it is
    /// replayed from its ops, and it was proven on L1 before it was imported.
    pub imported: bool,
}

impl StoredBlock {
    /// A block the node sealed.
    pub fn sealed(block: Block, txs: Vec<Option<L2Tx>>, priority: Vec<PriorityTx>) -> Self {
        Self { block, txs, priority, imported: false }
    }

    /// A block rebuilt from L1 (an executed block's pubdata).
    pub fn imported(block: Block) -> Self {
        Self { block, txs: Vec::new(), priority: Vec::new(), imported: true }
    }

    /// The tx entries to replay, in order: those of its ops other than the Noop chunks that
    /// aligned ops to their start period (the executor puts those back itself).
    pub fn replayed_txs(&self) -> impl Iterator<Item = &Option<L2Tx>> {
        let alignment = self.block.ops.iter().map(|op| *op == Op::Noop).chain(std::iter::repeat(false));
        self.txs.iter().zip(alignment).filter(|(_, noop)| !noop).map(|(tx, _)| tx)
    }
}

/// A tx applied to the open block, as the write-ahead log keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "tx")]
pub enum WalEntry {
    /// A signed L2 tx.
    L2(L2Tx),
    /// A priority request from L1.
    Priority(PriorityTx),
    /// The open block's timestamp (Unix seconds), logged before its first op when it differs
    /// from the previous block's: the ops after it were checked against it.
    Timestamp(u64),
}

/// The on-disk form: roots as 32-byte big-endian hex.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Record {
    number: u32,
    timestamp: u64,
    old_root: String,
    new_root: String,
    ops: Vec<Op>,
    chunks: usize,
    chain_count: u8,
    txs: Vec<Option<L2Tx>>,
    #[serde(default)]
    priority: Vec<PriorityTx>,
    #[serde(default)]
    imported: bool,
}

fn root_hex(r: &Fr) -> String {
    hex::encode(fr_to_bytes(r))
}

fn root_from_hex(s: &str) -> Result<Fr, RecordError> {
    Ok(zklink_state::store::fr_from_bytes(&hex::decode(s)?)?)
}

/// Blocks and proofs on disk.
pub struct BlockStore {
    db: Database,
    /// Write transactions committed since the store was opened.
    commits: AtomicU64,
}

impl BlockStore {
    /// Opens (or creates) the store at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let db = Database::create(path).map_err(db_err)?;
        let txn = db.begin_write().map_err(db_err)?;
        txn.open_table(BLOCKS).map_err(db_err)?;
        txn.open_table(PROOFS).map_err(db_err)?;
        txn.open_table(WAL).map_err(db_err)?;
        txn.open_table(TX_INDEX).map_err(db_err)?;
        txn.open_table(QUEUE).map_err(db_err)?;
        txn.open_table(FAILED).map_err(db_err)?;
        txn.open_table(L1_TXS).map_err(db_err)?;
        txn.open_table(PRIORITY_INDEX).map_err(db_err)?;
        txn.open_table(L1_REQUESTS).map_err(db_err)?;
        txn.commit().map_err(db_err)?;
        Ok(Self { db, commits: AtomicU64::new(0) })
    }

    /// Write transactions committed since the store was opened (each one durable: redb syncs on
    /// commit). Tests count them to check that a batch is one commit.
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// Commits `txn` durably and counts it.
    fn commit(&self, txn: redb::WriteTransaction) -> Result<(), StoreError> {
        txn.commit().map_err(db_err)?;
        self.commits.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// The number of the last stored block (0: none).
    pub fn last_block(&self) -> Result<u32, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let table = txn.open_table(BLOCKS).map_err(db_err)?;
        let last = table.last().map_err(db_err)?.map_or(0, |(k, _)| k.value());
        Ok(last)
    }

    /// Appends the next block durably and, in the same transaction, indexes its txs and empties
    /// the write-ahead log (the block holds every tx it had).
    pub fn put_block(&self, b: &StoredBlock) -> Result<(), StoreError> {
        let expected = self.last_block()? + 1;
        if b.block.number.0 != expected {
            return Err(StoreError::OutOfOrder { expected, got: b.block.number.0 });
        }
        let record = Record {
            number: b.block.number.0,
            timestamp: b.block.timestamp,
            old_root: root_hex(&b.block.old_root),
            new_root: root_hex(&b.block.new_root),
            ops: b.block.ops.clone(),
            chunks: b.block.chunks,
            chain_count: b.block.chain_count,
            txs: b.txs.clone(),
            priority: b.priority.clone(),
            imported: b.imported,
        };
        let bytes = serde_json::to_vec(&record).map_err(StoreError::Encode)?;
        let txn = self.db.begin_write().map_err(db_err)?;
        txn.open_table(BLOCKS).map_err(db_err)?.insert(expected, bytes.as_slice()).map_err(db_err)?;
        {
            let mut index = txn.open_table(TX_INDEX).map_err(db_err)?;
            for (i, tx) in b.txs.iter().enumerate() {
                if let Some(hash) = tx.as_ref().and_then(|t| t.hash().ok()) {
                    index.insert(&hash.0, (expected, i as u32)).map_err(db_err)?;
                }
            }
            // The priority requests are the block's priority ops, in order (the Noop chunks that
            // align ops to their start period have no L2 tx either).
            let mut priority = txn.open_table(PRIORITY_INDEX).map_err(db_err)?;
            let slots = b.block.ops.iter().enumerate().filter(|(_, op)| op.is_priority()).map(|(i, _)| i);
            for (i, p) in slots.zip(&b.priority) {
                let key = priority_key(p.chain_id().0, p.serial_id().0);
                priority.insert(key, (expected, i as u32)).map_err(db_err)?;
            }
        }
        txn.open_table(WAL).map_err(db_err)?.retain(|_, _| false).map_err(db_err)?;
        self.commit(txn)
    }

    /// Appends a tx of the open block to the write-ahead log, durably; `unqueue` names a queued tx
    /// this entry is (it leaves the queue in the same transaction).
    pub fn append_wal(&self, entry: &WalEntry, unqueue: Option<&TxHash>) -> Result<(), StoreError> {
        self.write_wal([(entry, unqueue)], &[])
    }

    /// Group commit: appends `entries` to the write-ahead log in order, under consecutive keys,
    /// and keeps `queued` (txs that wait for an earlier nonce, as [`BlockStore::put_queued`]), all
    /// in ONE durable write transaction: either all of it is on disk or none. An entry's hash
    /// names a queued tx it is (it leaves the queue, as in [`BlockStore::append_wal`]). Nothing
    /// to write is no transaction at all.
    pub fn append_wal_batch(
        &self,
        entries: &[(WalEntry, Option<TxHash>)],
        queued: &[(TxHash, L2Tx)],
    ) -> Result<(), StoreError> {
        if entries.is_empty() && queued.is_empty() {
            return Ok(());
        }
        self.write_wal(entries.iter().map(|(e, h)| (e, h.as_ref())), queued)
    }

    fn write_wal<'a>(
        &self,
        entries: impl IntoIterator<Item = (&'a WalEntry, Option<&'a TxHash>)>,
        queued: &[(TxHash, L2Tx)],
    ) -> Result<(), StoreError> {
        let mut encoded = Vec::new();
        let mut unqueue: Vec<&TxHash> = Vec::new();
        for (entry, hash) in entries {
            encoded.push(serde_json::to_vec(entry).map_err(StoreError::Encode)?);
            unqueue.extend(hash);
        }
        let queued = queued
            .iter()
            .map(|(hash, tx)| Ok((hash, serde_json::to_vec(tx).map_err(StoreError::Encode)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        let txn = self.db.begin_write().map_err(db_err)?;
        {
            let mut table = txn.open_table(WAL).map_err(db_err)?;
            let first = table.last().map_err(db_err)?.map_or(0, |(k, _)| k.value() + 1);
            for (key, bytes) in (first..).zip(&encoded) {
                table.insert(key, bytes.as_slice()).map_err(db_err)?;
            }
        }
        if !unqueue.is_empty() || !queued.is_empty() {
            // A tx queued and then applied within the same batch ends up out of the queue.
            let mut table = txn.open_table(QUEUE).map_err(db_err)?;
            for (hash, bytes) in &queued {
                table.insert(&hash.0, bytes.as_slice()).map_err(db_err)?;
            }
            for hash in unqueue {
                table.remove(&hash.0).map_err(db_err)?;
            }
        }
        self.commit(txn)
    }

    /// Where a sealed tx is: (block, op index).
    pub fn tx_location(&self, hash: &TxHash) -> Result<Option<(u32, u32)>, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let table = txn.open_table(TX_INDEX).map_err(db_err)?;
        Ok(table.get(&hash.0).map_err(db_err)?.map(|v| v.value()))
    }

    /// Where a sealed priority op is: (block, op index).
    pub fn priority_location(&self, chain: u8, serial_id: u64) -> Result<Option<(u32, u32)>, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let table = txn.open_table(PRIORITY_INDEX).map_err(db_err)?;
        Ok(table.get(priority_key(chain, serial_id)).map_err(db_err)?.map(|v| v.value()))
    }

    /// Records that the L1 transaction `l1_tx` queued request `serial_id` on `chain` (before the
    /// request is taken: an entry for a request the node has not taken yet is harmless).
    pub fn put_l1_request(&self, l1_tx: &[u8; 32], chain: u8, serial_id: u64) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(db_err)?;
        txn.open_table(L1_REQUESTS).map_err(db_err)?.insert(l1_tx, (chain, serial_id)).map_err(db_err)?;
        self.commit(txn)
    }

    /// The request (chain, serial id) the L1 transaction `l1_tx` queued, if the node has seen it.
    pub fn l1_request(&self, l1_tx: &[u8; 32]) -> Result<Option<(u8, u64)>, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let table = txn.open_table(L1_REQUESTS).map_err(db_err)?;
        Ok(table.get(l1_tx).map_err(db_err)?.map(|v| v.value()))
    }

    /// Keeps an accepted tx that waits for an earlier nonce, durably.
    pub fn put_queued(&self, hash: &TxHash, tx: &L2Tx) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(tx).map_err(StoreError::Encode)?;
        let txn = self.db.begin_write().map_err(db_err)?;
        txn.open_table(QUEUE).map_err(db_err)?.insert(&hash.0, bytes.as_slice()).map_err(db_err)?;
        self.commit(txn)
    }

    /// Every queued tx.
    pub fn queued(&self) -> Result<Vec<L2Tx>, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let table = txn.open_table(QUEUE).map_err(db_err)?;
        let mut out = Vec::new();
        for entry in table.iter().map_err(db_err)? {
            let (k, v) = entry.map_err(db_err)?;
            let corrupt = |e: serde_json::Error| StoreError::Corrupt {
                record: format!("queued tx 0x{}", hex::encode(k.value())),
                source: e.into(),
            };
            out.push(serde_json::from_slice(v.value()).map_err(corrupt)?);
        }
        Ok(out)
    }

    /// Drops a queued tx; `reason` records why it failed (shown as its status).
    pub fn drop_queued(&self, hash: &TxHash, reason: Option<&str>) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(db_err)?;
        txn.open_table(QUEUE).map_err(db_err)?.remove(&hash.0).map_err(db_err)?;
        if let Some(reason) = reason {
            txn.open_table(FAILED).map_err(db_err)?.insert(&hash.0, reason).map_err(db_err)?;
        }
        self.commit(txn)
    }

    /// Why a queued tx failed, if it did.
    pub fn failure(&self, hash: &TxHash) -> Result<Option<String>, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let table = txn.open_table(FAILED).map_err(db_err)?;
        Ok(table.get(&hash.0).map_err(db_err)?.map(|v| v.value().to_string()))
    }

    /// Records the L1 transaction `tx` that took blocks `first..=last` through `stage` on `chain`.
    pub fn put_l1_tx(&self, chain: u8, stage: u8, first: u32, last: u32, tx: &[u8; 32]) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(db_err)?;
        {
            let mut table = txn.open_table(L1_TXS).map_err(db_err)?;
            for n in first..=last {
                table.insert((chain, stage, n), tx).map_err(db_err)?;
            }
        }
        self.commit(txn)
    }

    /// The L1 transaction that took block `n` through `stage` on `chain`, if this node sent it.
    pub fn l1_tx(&self, chain: u8, stage: u8, n: u32) -> Result<Option<[u8; 32]>, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let table = txn.open_table(L1_TXS).map_err(db_err)?;
        Ok(table.get((chain, stage, n)).map_err(db_err)?.map(|v| *v.value()))
    }

    /// The write-ahead log: the open block's txs in the order they were applied.
    pub fn wal(&self) -> Result<Vec<WalEntry>, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let table = txn.open_table(WAL).map_err(db_err)?;
        let mut out = Vec::new();
        for entry in table.iter().map_err(db_err)? {
            let (k, v) = entry.map_err(db_err)?;
            let corrupt = |e: serde_json::Error| StoreError::Corrupt {
                record: format!("WAL entry {}", k.value()),
                source: e.into(),
            };
            out.push(serde_json::from_slice(v.value()).map_err(corrupt)?);
        }
        Ok(out)
    }

    /// Block `n`, if stored.
    pub fn block(&self, n: u32) -> Result<Option<StoredBlock>, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let table = txn.open_table(BLOCKS).map_err(db_err)?;
        let Some(value) = table.get(n).map_err(db_err)? else { return Ok(None) };
        let corrupt = |e: RecordError| StoreError::Corrupt { record: format!("block {n}"), source: e };
        let r: Record = serde_json::from_slice(value.value()).map_err(|e| corrupt(e.into()))?;
        let block = Block {
            number: BlockNumber(r.number),
            timestamp: r.timestamp,
            old_root: root_from_hex(&r.old_root).map_err(corrupt)?,
            new_root: root_from_hex(&r.new_root).map_err(corrupt)?,
            ops: r.ops,
            chunks: r.chunks,
            chain_count: r.chain_count,
        };
        Ok(Some(StoredBlock { block, txs: r.txs, priority: r.priority, imported: r.imported }))
    }

    /// Stores block `n`'s proof in the verifier contract's encoding (8 × 32 bytes).
    pub fn put_proof(&self, n: u32, proof: &[[u8; 32]; 8]) -> Result<(), StoreError> {
        let bytes = proof.concat();
        let txn = self.db.begin_write().map_err(db_err)?;
        txn.open_table(PROOFS).map_err(db_err)?.insert(n, bytes.as_slice()).map_err(db_err)?;
        self.commit(txn)
    }

    /// Block `n`'s proof, if a prover has returned it.
    pub fn proof(&self, n: u32) -> Result<Option<[[u8; 32]; 8]>, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let table = txn.open_table(PROOFS).map_err(db_err)?;
        let Some(value) = table.get(n).map_err(db_err)? else { return Ok(None) };
        let bytes = value.value();
        if bytes.len() != 256 {
            return Err(StoreError::Corrupt {
                record: format!("proof of block {n}"),
                source: RecordError::ProofLength(bytes.len()),
            });
        }
        let mut proof = [[0u8; 32]; 8];
        for (i, word) in proof.iter_mut().enumerate() {
            word.copy_from_slice(&bytes[32 * i..32 * (i + 1)]);
        }
        Ok(Some(proof))
    }
}
