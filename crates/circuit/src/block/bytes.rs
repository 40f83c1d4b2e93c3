//! Pubdata and signed messages as bits. Chunk bits are big-endian within each byte and in byte
//! order, the order SHA-256 consumes them; fields parsed from them are free linear
//! combinations, so binding an op's fields to its pubdata costs nothing.

use ark_r1cs_std::boolean::Boolean;
use ark_r1cs_std::fields::fp::FpVar;
use ark_r1cs_std::fields::FieldVar;
use zklink_crypto::Fr;

use super::num::{be_to_fp, eq_if, R};
use crate::gadgets::poseidon;

/// Sequential reader over an op's pubdata bits.
pub struct Cursor {
    bits: Vec<Boolean<Fr>>,
    pos: usize,
}

impl Cursor {
    /// A cursor at the first of `bits`.
    pub fn new(bits: Vec<Boolean<Fr>>) -> Self {
        Self { bits, pos: 0 }
    }

    /// The next `n` bytes as bits.
    pub fn bits(&mut self, n: usize) -> Vec<Boolean<Fr>> {
        let out = self.bits[self.pos..self.pos + 8 * n].to_vec();
        self.pos += 8 * n;
        out
    }

    /// The next `n` bytes as a big-endian integer, with its bits.
    pub fn uint(&mut self, n: usize) -> R<Field> {
        let bits = self.bits(n);
        Ok(Field { value: be_to_fp(&bits)?, bits })
    }

    /// Everything after the fields read so far must be zero when `g` holds.
    pub fn zero_padding(&self, g: &Boolean<Fr>) -> R<()> {
        eq_if(g, &bit_sum(&self.bits[self.pos..]), &FpVar::zero())
    }
}

/// Σ bits: zero iff every bit is (a free linear combination).
fn bit_sum(bits: &[Boolean<Fr>]) -> FpVar<Fr> {
    bits.iter().fold(FpVar::zero(), |acc, b| acc + FpVar::from(b.clone()))
}

/// A parsed field: its value and its big-endian bits.
#[derive(Clone)]
pub struct Field {
    /// The field's value as an integer (a free linear combination of `bits`).
    pub value: FpVar<Fr>,
    /// The field's bits, most significant first.
    pub bits: Vec<Boolean<Fr>>,
}

impl Field {
    /// `g ⇒ value < 2^width` (the bits above `width` are zero), one constraint.
    pub fn fits(&self, g: &Boolean<Fr>, width: usize) -> R<()> {
        let extra = self.bits.len().saturating_sub(width);
        eq_if(g, &bit_sum(&self.bits[..extra]), &FpVar::zero())
    }
}

/// Bits of constant bytes.
pub fn const_bits(bytes: &[u8]) -> Vec<Boolean<Fr>> {
    bytes.iter().flat_map(|b| (0..8).rev().map(move |i| Boolean::Constant((b >> i) & 1 == 1))).collect()
}

/// Signed bytes being assembled as bits, hashed as `msg(bytes)` (docs/protocol.md §1).
#[derive(Default)]
pub struct Message {
    bits: Vec<Boolean<Fr>>,
}

impl Message {
    /// Appends a constant byte (an op or tx type code).
    pub fn byte(mut self, b: u8) -> Self {
        self.bits.extend(const_bits(&[b]));
        self
    }
    /// Appends the bits of witness bytes (a field from pubdata or a signed witness).
    pub fn bits(mut self, bits: &[Boolean<Fr>]) -> Self {
        self.bits.extend_from_slice(bits);
        self
    }
    /// Number of bytes appended so far.
    pub fn len_bytes(&self) -> usize {
        self.bits.len() / 8
    }
    /// `bytes_to_fields`: 31-byte big-endian chunks.
    pub fn fields(&self) -> R<Vec<FpVar<Fr>>> {
        self.bits.chunks(8 * 31).map(be_to_fp).collect()
    }
    /// `msg(bytes) = Poseidon(bytes_to_fields(bytes))`.
    pub fn hash(&self) -> R<FpVar<Fr>> {
        poseidon::poseidon(&self.fields()?)
    }
}
