//! Big-endian byte writer and a bounds-checked reader used by every encoding.

use alloy_primitives::Address;

use crate::amount::{FloatFormat, PRICE_BYTES};
use crate::error::DecodeError;

#[derive(Default)]
pub struct Writer(pub Vec<u8>);

impl Writer {
    pub fn with_capacity(n: usize) -> Self {
        Self(Vec::with_capacity(n))
    }
    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.0.push(v);
        self
    }
    pub fn u16(&mut self, v: u16) -> &mut Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    /// Low 3 bytes of `v` (24-bit order nonces).
    pub fn u24(&mut self, v: u32) -> &mut Self {
        self.0.extend_from_slice(&v.to_be_bytes()[1..]);
        self
    }
    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    pub fn u128(&mut self, v: u128) -> &mut Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    /// Low 15 bytes of a price (prices are < 2^120).
    pub fn price(&mut self, v: u128) -> &mut Self {
        self.0.extend_from_slice(&v.to_be_bytes()[16 - PRICE_BYTES..]);
        self
    }
    pub fn bytes(&mut self, b: &[u8]) -> &mut Self {
        self.0.extend_from_slice(b);
        self
    }
    pub fn address(&mut self, a: &Address) -> &mut Self {
        self.bytes(a.as_slice())
    }
    /// Packs with a float format; the caller has validated packability.
    pub fn float(&mut self, f: FloatFormat, v: u128) -> Result<&mut Self, crate::TxError> {
        let packed = f.pack(v)?;
        Ok(self.bytes(&packed))
    }
    pub fn pad_to(&mut self, len: usize) -> &mut Self {
        if self.0.len() < len {
            self.0.resize(len, 0);
        }
        self
    }
    pub fn finish(self) -> Vec<u8> {
        self.0
    }
}

pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    what: &'static str,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8], what: &'static str) -> Self {
        Self { buf, pos: 0, what }
    }
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let remaining = self.buf.len() - self.pos;
        if n > remaining {
            return Err(DecodeError::UnexpectedEnd { what: self.what, needed: n, remaining });
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }
    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }
    pub fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array()?))
    }
    pub fn u24(&mut self) -> Result<u32, DecodeError> {
        let b = self.take(3)?;
        Ok(u32::from_be_bytes([0, b[0], b[1], b[2]]))
    }
    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array()?))
    }
    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array()?))
    }
    pub fn u128(&mut self) -> Result<u128, DecodeError> {
        Ok(u128::from_be_bytes(self.array()?))
    }
    pub fn price(&mut self) -> Result<u128, DecodeError> {
        let mut b = [0u8; 16];
        b[16 - PRICE_BYTES..].copy_from_slice(self.take(PRICE_BYTES)?);
        Ok(u128::from_be_bytes(b))
    }
    pub fn address(&mut self) -> Result<Address, DecodeError> {
        Ok(Address::from(self.array::<20>()?))
    }
    pub fn bytes32(&mut self) -> Result<[u8; 32], DecodeError> {
        self.array()
    }
    pub fn float(&mut self, f: FloatFormat) -> Result<u128, DecodeError> {
        f.unpack(self.take(f.byte_len())?)
    }
    pub fn bool(&mut self) -> Result<bool, DecodeError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(DecodeError::Invalid { what: self.what, reason: "boolean byte must be 0 or 1" }),
        }
    }
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }
    /// Fails if anything but zero padding is left.
    pub fn finish_zero_padded(self) -> Result<(), DecodeError> {
        if self.buf[self.pos..].iter().any(|&b| b != 0) {
            return Err(DecodeError::Invalid { what: self.what, reason: "non-zero bytes in padding" });
        }
        Ok(())
    }
    /// Fails if any byte is left.
    pub fn finish(self) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            trailing => Err(DecodeError::Trailing { what: self.what, trailing }),
        }
    }
}
