//! Durable state storage behind a small interface: redb by default, in-memory for tests; a
//! Postgres implementation would store the same `AccountRecord`s in one table.
//!
//! A commit writes the changed accounts and the (block, root) marker in one ACID
//! transaction, so after a crash the store holds exactly the last committed block.

use std::collections::BTreeMap;
use std::path::Path;

use ark_ff::PrimeField;
use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};
use zklink_crypto::Fr;
use zklink_types::{AccountId, Address, BlockNumber, Nonce, OrderNonce, PubKeyHash};

use crate::account::OrderSlot;
use crate::error::StateError;

/// One account as stored: its leaves, plus the subtree roots so reopening needs no rehashing below the account leaf.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountRecord {
    /// The account's id (the key of its row).
    pub id: AccountId,
    /// The owner's L1 address.
    pub address: Address,
    /// Hash of the L2 public key; all zero if none is set.
    pub pubkey_hash: PubKeyHash,
    /// The account nonce.
    pub nonce: Nonce,
    /// (balance leaf index, balance), non-zero leaves only.
    pub balances: Vec<(u64, u128)>,
    /// (order leaf index, slot), non-empty slots only.
    pub orders: Vec<(u64, OrderSlot)>,
    /// Root of the balance tree.
    pub balance_root: Fr,
    /// Root of the order tree.
    pub order_root: Fr,
    /// The account leaf hash, so reopening rebuilds the account tree without hashing leaves;
    /// `State::verify_leaves` checks it against the fields.
    pub leaf_hash: Fr,
}

/// Everything a store returns on open.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredState {
    /// The block the stored state is at.
    pub block: BlockNumber,
    /// The state root committed with it, checked when the state is rebuilt.
    pub root: Fr,
    /// Every stored account, in no particular order.
    pub accounts: Vec<AccountRecord>,
}

/// Durable storage of a [`State`](crate::State): the accounts changed by each committed block and
/// the (block, root) marker, written atomically.
pub trait StateStore: Send {
    /// The last committed state, or `None` for an empty store.
    fn load(&self) -> Result<Option<StoredState>, StateError>;
    /// Atomically records `changed` accounts and the new (block, root).
    fn commit(&mut self, block: BlockNumber, root: Fr, changed: &[AccountRecord]) -> Result<(), StateError>;
}

/// Keeps everything in memory: for tests and throw-away runs.
#[derive(Default)]
pub struct MemoryStore {
    head: Option<(BlockNumber, Fr)>,
    accounts: BTreeMap<u32, AccountRecord>,
}

impl StateStore for MemoryStore {
    fn load(&self) -> Result<Option<StoredState>, StateError> {
        Ok(self.head.map(|(block, root)| StoredState {
            block,
            root,
            accounts: self.accounts.values().cloned().collect(),
        }))
    }

    fn commit(&mut self, block: BlockNumber, root: Fr, changed: &[AccountRecord]) -> Result<(), StateError> {
        for r in changed {
            self.accounts.insert(r.id.0, r.clone());
        }
        self.head = Some((block, root));
        Ok(())
    }
}

const ACCOUNTS: TableDefinition<u32, &[u8]> = TableDefinition::new("accounts");
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("state_meta");
const HEAD_KEY: &str = "head";

/// redb-backed store: one file, crash-safe commits.
pub struct RedbStore {
    db: Database,
}

fn store_err(e: impl Into<redb::Error>) -> StateError {
    StateError::Store(Box::new(e.into()))
}

impl RedbStore {
    /// Opens the redb file at `path`, creating it if missing.
    pub fn open(path: &Path) -> Result<Self, StateError> {
        let db = Database::create(path).map_err(store_err)?;
        Ok(Self { db })
    }
}

impl StateStore for RedbStore {
    fn load(&self) -> Result<Option<StoredState>, StateError> {
        let txn = self.db.begin_read().map_err(store_err)?;
        let meta = match txn.open_table(META) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(store_err(e)),
        };
        let Some(head) = meta.get(HEAD_KEY).map_err(store_err)? else {
            return Ok(None);
        };
        let (block, root) = decode_head(head.value())?;
        let table = txn.open_table(ACCOUNTS).map_err(store_err)?;
        let mut accounts = Vec::with_capacity(table.len().map_err(store_err)? as usize);
        for entry in table.iter().map_err(store_err)? {
            let (k, v) = entry.map_err(store_err)?;
            accounts.push(decode_record(AccountId(k.value()), v.value())?);
        }
        Ok(Some(StoredState { block, root, accounts }))
    }

    fn commit(&mut self, block: BlockNumber, root: Fr, changed: &[AccountRecord]) -> Result<(), StateError> {
        let txn = self.db.begin_write().map_err(store_err)?;
        {
            let mut table = txn.open_table(ACCOUNTS).map_err(store_err)?;
            for r in changed {
                table.insert(r.id.0, encode_record(r).as_slice()).map_err(store_err)?;
            }
            let mut meta = txn.open_table(META).map_err(store_err)?;
            meta.insert(HEAD_KEY, encode_head(block, root).as_slice()).map_err(store_err)?;
        }
        txn.commit().map_err(store_err)
    }
}

pub use zklink_crypto::fr_to_bytes;

/// Rejects non-canonical encodings (>= the field modulus).
pub fn fr_from_bytes(b: &[u8]) -> Result<Fr, StateError> {
    let f = Fr::from_be_bytes_mod_order(b);
    if b.len() != 32 || fr_to_bytes(&f) != b {
        return Err(StateError::Corrupt("field element is not a canonical 32-byte big-endian value".into()));
    }
    Ok(f)
}

fn encode_head(block: BlockNumber, root: Fr) -> Vec<u8> {
    let mut v = block.0.to_be_bytes().to_vec();
    v.extend_from_slice(&fr_to_bytes(&root));
    v
}

fn decode_head(b: &[u8]) -> Result<(BlockNumber, Fr), StateError> {
    if b.len() != 36 {
        return Err(StateError::Corrupt(format!("head record must be 36 bytes, got {}", b.len())));
    }
    let block = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    Ok((BlockNumber(block), fr_from_bytes(&b[4..])?))
}

/// address 20 ‖ pkh 20 ‖ nonce 4 ‖ balance_root 32 ‖ order_root 32 ‖ leaf_hash 32 ‖ n u32 ‖ n·(index u64 ‖ value u128)
/// ‖ m u32 ‖ m·(index u64 ‖ order nonce u32 ‖ residue u128)
pub fn encode_record(r: &AccountRecord) -> Vec<u8> {
    let mut v = Vec::with_capacity(148 + r.balances.len() * 24 + r.orders.len() * 28);
    v.extend_from_slice(r.address.as_slice());
    v.extend_from_slice(&r.pubkey_hash.0);
    v.extend_from_slice(&r.nonce.0.to_be_bytes());
    v.extend_from_slice(&fr_to_bytes(&r.balance_root));
    v.extend_from_slice(&fr_to_bytes(&r.order_root));
    v.extend_from_slice(&fr_to_bytes(&r.leaf_hash));
    v.extend_from_slice(&(r.balances.len() as u32).to_be_bytes());
    for (i, b) in &r.balances {
        v.extend_from_slice(&i.to_be_bytes());
        v.extend_from_slice(&b.to_be_bytes());
    }
    v.extend_from_slice(&(r.orders.len() as u32).to_be_bytes());
    for (i, s) in &r.orders {
        v.extend_from_slice(&i.to_be_bytes());
        v.extend_from_slice(&s.nonce.0.to_be_bytes());
        v.extend_from_slice(&s.residue.to_be_bytes());
    }
    v
}

struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], StateError> {
        if self.0.len() < n {
            return Err(StateError::Corrupt(format!(
                "account record truncated: needed {n} more bytes, {} left",
                self.0.len()
            )));
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], StateError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }
    fn u32(&mut self) -> Result<u32, StateError> {
        self.array().map(u32::from_be_bytes)
    }
    fn u64(&mut self) -> Result<u64, StateError> {
        self.array().map(u64::from_be_bytes)
    }
    fn u128(&mut self) -> Result<u128, StateError> {
        self.array().map(u128::from_be_bytes)
    }
}

/// Decodes an account row written by [`encode_record`]; [`StateError::Corrupt`] for a short,
/// long or non-canonical record.
pub fn decode_record(id: AccountId, b: &[u8]) -> Result<AccountRecord, StateError> {
    let mut c = Cursor(b);
    let address = Address::from_slice(c.take(20)?);
    let mut pkh = [0u8; 20];
    pkh.copy_from_slice(c.take(20)?);
    let nonce = Nonce(c.u32()?);
    let balance_root = fr_from_bytes(c.take(32)?)?;
    let order_root = fr_from_bytes(c.take(32)?)?;
    let leaf_hash = fr_from_bytes(c.take(32)?)?;
    let n = c.u32()? as usize;
    if n > c.0.len() / 24 {
        return Err(StateError::Corrupt(format!("account {id}: {n} balances do not fit the record")));
    }
    let mut balances = Vec::with_capacity(n);
    for _ in 0..n {
        balances.push((c.u64()?, c.u128()?));
    }
    let m = c.u32()? as usize;
    if m > c.0.len() / 28 {
        return Err(StateError::Corrupt(format!("account {id}: {m} order slots do not fit the record")));
    }
    let mut orders = Vec::with_capacity(m);
    for _ in 0..m {
        let index = c.u64()?;
        let nonce = OrderNonce(c.u32()?);
        orders.push((index, OrderSlot { nonce, residue: c.u128()? }));
    }
    if !c.0.is_empty() {
        return Err(StateError::Corrupt(format!("account {id}: {} trailing bytes", c.0.len())));
    }
    Ok(AccountRecord {
        id,
        address,
        pubkey_hash: PubKeyHash(pkh),
        nonce,
        balances,
        orders,
        balance_root,
        order_root,
        leaf_hash,
    })
}
