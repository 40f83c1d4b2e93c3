//! The oracle's own attestations, on disk (redb): after a restart it serves them again and never
//! signs a different sync hash for a block it already attested (which would let two histories
//! each collect its signature).

use std::path::Path;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use crate::attestation::Attestation;

const ATTESTATIONS: TableDefinition<u32, &[u8]> = TableDefinition::new("attestations");

/// Errors of the store.
#[derive(thiserror::Error, Debug)]
#[error("oracle store: {0}")]
pub struct StoreError(String);

fn err(e: impl std::fmt::Display) -> StoreError {
    StoreError(e.to_string())
}

/// Attestations by block.
pub struct OracleStore {
    db: Database,
}

impl OracleStore {
    /// Opens (or creates) the store at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let db = Database::create(path).map_err(err)?;
        let txn = db.begin_write().map_err(err)?;
        txn.open_table(ATTESTATIONS).map_err(err)?;
        txn.commit().map_err(err)?;
        Ok(Self { db })
    }

    /// Keeps `a` durably.
    pub fn put(&self, a: &Attestation) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(a).map_err(err)?;
        let txn = self.db.begin_write().map_err(err)?;
        txn.open_table(ATTESTATIONS).map_err(err)?.insert(a.block, bytes.as_slice()).map_err(err)?;
        txn.commit().map_err(err)
    }

    /// The attestation of `block`, if made.
    pub fn get(&self, block: u32) -> Result<Option<Attestation>, StoreError> {
        let txn = self.db.begin_read().map_err(err)?;
        let table = txn.open_table(ATTESTATIONS).map_err(err)?;
        let Some(v) = table.get(block).map_err(err)? else { return Ok(None) };
        serde_json::from_slice(v.value()).map(Some).map_err(err)
    }

    /// Attestations of blocks `from..`, at most `limit`, in block order.
    pub fn from(&self, from: u32, limit: usize) -> Result<Vec<Attestation>, StoreError> {
        let txn = self.db.begin_read().map_err(err)?;
        let table = txn.open_table(ATTESTATIONS).map_err(err)?;
        let mut out = Vec::new();
        for entry in table.range(from..).map_err(err)?.take(limit) {
            let (_, v) = entry.map_err(err)?;
            out.push(serde_json::from_slice(v.value()).map_err(err)?);
        }
        Ok(out)
    }

    /// The newest block attested (0: none).
    pub fn last(&self) -> Result<u32, StoreError> {
        let txn = self.db.begin_read().map_err(err)?;
        let table = txn.open_table(ATTESTATIONS).map_err(err)?;
        let last = table.last().map_err(err)?.map_or(0, |(k, _)| k.value());
        Ok(last)
    }
}
