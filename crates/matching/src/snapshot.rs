//! The canonical byte layout of an engine snapshot: its writer, reader and errors.
//!
//! Every integer is big-endian. An engine is `"ZKME"`, a version byte (1), the next sequence
//! number (u64), the number of markets (u32), then each market in ascending id: id (u32), tick
//! (u128), lot (u128), minimum size (u64), self-trade policy (u8: 0 cancel resting, 1 cancel
//! incoming, 2 cancel both), then the bids and then the asks, each as a count (u64) of orders
//! followed by the orders in priority order (best price first, oldest first within a price):
//! price (u64), id (u64), account (u32), remaining size (u64), priority (u64: the sequence
//! number of its acceptance, kept by a restore, so not always increasing in the order the
//! orders entered the book).

use thiserror::Error;

use crate::types::StpPolicy;

/// The first bytes of a snapshot.
pub(crate) const MAGIC: &[u8; 4] = b"ZKME";
/// The layout version.
pub(crate) const VERSION: u8 = 1;

/// Why a snapshot could not be read back.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum SnapshotError {
    /// It does not start with the magic bytes and version 1.
    #[error("not an engine snapshot (bad magic or version)")]
    BadHeader,
    /// It ends in the middle of a field.
    #[error("snapshot truncated")]
    Truncated,
    /// Bytes left after the last market.
    #[error("{0} trailing bytes after the snapshot")]
    Trailing(usize),
    /// A field has a value the engine could never have written.
    #[error("invalid snapshot: {0}")]
    Invalid(&'static str),
}

pub(crate) fn put_u8(out: &mut Vec<u8>, v: u8) {
    out.push(v);
}

pub(crate) fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes());
}

pub(crate) fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_be_bytes());
}

pub(crate) fn put_u128(out: &mut Vec<u8>, v: u128) {
    out.extend_from_slice(&v.to_be_bytes());
}

pub(crate) fn stp_code(stp: StpPolicy) -> u8 {
    match stp {
        StpPolicy::CancelResting => 0,
        StpPolicy::CancelIncoming => 1,
        StpPolicy::CancelBoth => 2,
    }
}

pub(crate) fn stp_from_code(code: u8) -> Result<StpPolicy, SnapshotError> {
    match code {
        0 => Ok(StpPolicy::CancelResting),
        1 => Ok(StpPolicy::CancelIncoming),
        2 => Ok(StpPolicy::CancelBoth),
        _ => Err(SnapshotError::Invalid("self-trade policy")),
    }
}

/// Reads the fields of a snapshot in order.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes }
    }

    fn take<const N: usize>(&mut self) -> Result<[u8; N], SnapshotError> {
        let (head, rest) = self.bytes.split_first_chunk::<N>().ok_or(SnapshotError::Truncated)?;
        self.bytes = rest;
        Ok(*head)
    }

    pub(crate) fn magic(&mut self) -> Result<[u8; 4], SnapshotError> {
        self.take::<4>()
    }

    pub(crate) fn u8(&mut self) -> Result<u8, SnapshotError> {
        Ok(self.take::<1>()?[0])
    }

    pub(crate) fn u32(&mut self) -> Result<u32, SnapshotError> {
        Ok(u32::from_be_bytes(self.take()?))
    }

    pub(crate) fn u64(&mut self) -> Result<u64, SnapshotError> {
        Ok(u64::from_be_bytes(self.take()?))
    }

    pub(crate) fn u128(&mut self) -> Result<u128, SnapshotError> {
        Ok(u128::from_be_bytes(self.take()?))
    }

    pub(crate) fn remaining(&self) -> usize {
        self.bytes.len()
    }
}
