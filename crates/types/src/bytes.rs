//! Big-endian byte writer and a bounds-checked reader used by every encoding.

use alloy_primitives::Address;

use crate::amount::{FloatFormat, PRICE_BYTES};
use crate::error::DecodeError;

/// Append-only big-endian encoder for signed bytes and pubdata; each method appends one field.
/// The inner vector is the bytes written so far.
#[derive(Default)]
pub struct Writer(pub Vec<u8>);

impl Writer {
    /// An empty writer with room for `n` bytes.
    pub fn with_capacity(n: usize) -> Self {
        Self(Vec::with_capacity(n))
    }
    /// Appends one byte.
    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.0.push(v);
        self
    }
    /// Appends `v` as 2 bytes, big-endian.
    pub fn u16(&mut self, v: u16) -> &mut Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    /// Low 3 bytes of `v` (24-bit order nonces).
    pub fn u24(&mut self, v: u32) -> &mut Self {
        self.0.extend_from_slice(&v.to_be_bytes()[1..]);
        self
    }
    /// Appends `v` as 4 bytes, big-endian.
    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    /// Appends `v` as 8 bytes, big-endian.
    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    /// Appends `v` as 16 bytes, big-endian.
    pub fn u128(&mut self, v: u128) -> &mut Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    /// Low 15 bytes of a price (prices are < 2^120).
    pub fn price(&mut self, v: u128) -> &mut Self {
        self.0.extend_from_slice(&v.to_be_bytes()[16 - PRICE_BYTES..]);
        self
    }
    /// Low 15 bytes of `v` (a swap's amounts, below 2^120).
    pub fn u120(&mut self, v: u128) -> &mut Self {
        self.price(v)
    }
    /// Appends `b` as is.
    pub fn bytes(&mut self, b: &[u8]) -> &mut Self {
        self.0.extend_from_slice(b);
        self
    }
    /// Appends the 20 bytes of an L1 address.
    pub fn address(&mut self, a: &Address) -> &mut Self {
        self.bytes(a.as_slice())
    }
    /// Packs with a float format; the caller has validated packability.
    pub fn float(&mut self, f: FloatFormat, v: u128) -> Result<&mut Self, crate::TxError> {
        let packed = f.pack(v)?;
        Ok(self.bytes(&packed))
    }
    /// Appends zero bytes until the output is `len` bytes long (nothing if it already is or is longer).
    pub fn pad_to(&mut self, len: usize) -> &mut Self {
        if self.0.len() < len {
            self.0.resize(len, 0);
        }
        self
    }
    /// The bytes written.
    pub fn finish(self) -> Vec<u8> {
        self.0
    }
}

/// Bounds-checked big-endian decoder over a byte slice: each method consumes one field and returns
/// a [`DecodeError`] (naming what is being decoded) instead of panicking when the input is short.
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    what: &'static str,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `buf`; `what` names the decoded item in error messages.
    pub fn new(buf: &'a [u8], what: &'static str) -> Self {
        Self { buf, pos: 0, what }
    }
    /// Consumes the next `n` bytes; [`DecodeError::UnexpectedEnd`] if fewer are left.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let remaining = self.buf.len() - self.pos;
        if n > remaining {
            return Err(DecodeError::UnexpectedEnd { what: self.what, needed: n, remaining });
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    /// Consumes the next `N` bytes as an array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }
    /// Consumes one byte.
    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }
    /// Consumes a 2-byte big-endian integer.
    pub fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array()?))
    }
    /// Consumes a 3-byte big-endian integer (24-bit order nonces).
    pub fn u24(&mut self) -> Result<u32, DecodeError> {
        let b = self.take(3)?;
        Ok(u32::from_be_bytes([0, b[0], b[1], b[2]]))
    }
    /// Consumes a 4-byte big-endian integer.
    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array()?))
    }
    /// Consumes an 8-byte big-endian integer.
    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array()?))
    }
    /// Consumes a 16-byte big-endian integer.
    pub fn u128(&mut self) -> Result<u128, DecodeError> {
        Ok(u128::from_be_bytes(self.array()?))
    }
    /// Consumes a 15-byte big-endian integer (a swap's amounts).
    pub fn u120(&mut self) -> Result<u128, DecodeError> {
        self.price()
    }
    /// Consumes a 15-byte big-endian price (the range check is [`Price::check`](crate::Price::check)'s).
    pub fn price(&mut self) -> Result<u128, DecodeError> {
        let mut b = [0u8; 16];
        b[16 - PRICE_BYTES..].copy_from_slice(self.take(PRICE_BYTES)?);
        Ok(u128::from_be_bytes(b))
    }
    /// Consumes a 20-byte L1 address.
    pub fn address(&mut self) -> Result<Address, DecodeError> {
        Ok(Address::from(self.array::<20>()?))
    }
    /// Consumes 32 bytes (a hash or a field element).
    pub fn bytes32(&mut self) -> Result<[u8; 32], DecodeError> {
        self.array()
    }
    /// Consumes a packed float of format `f` and decodes it strictly ([`FloatFormat::unpack`]).
    pub fn float(&mut self, f: FloatFormat) -> Result<u128, DecodeError> {
        f.unpack(self.take(f.byte_len())?)
    }
    /// Consumes a boolean byte; anything but 0 or 1 is [`DecodeError::Invalid`].
    pub fn bool(&mut self) -> Result<bool, DecodeError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(DecodeError::Invalid { what: self.what, reason: "boolean byte must be 0 or 1" }),
        }
    }
    /// Number of bytes not consumed yet.
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
