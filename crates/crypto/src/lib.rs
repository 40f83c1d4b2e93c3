//! Cryptographic primitives of the zklink rollup.
//!
//! * [`poseidon`]: the circomlib Poseidon hash over the BN254 scalar field (bit-exact with
//!   circomlibjs / light-poseidon), with a fast fixed-width implementation for the tree hashes.
//! * [`eddsa`]: EdDSA-Poseidon on Baby Jubjub in ERC-2494 form — the circomlib `signPoseidon` /
//!   `verifyPoseidon` scheme and its 32/64-byte packed encodings — plus the 20-byte
//!   [`eddsa::PubKeyHash`] stored in account leaves.
//! * [`l1`]: secp256k1 helpers: EIP-191 `personal_sign`, derivation of the L2 key from an L1
//!   signature, and the EIP-712 `ChangePubKey` authorisation.
//!
//! Everything that parses external bytes returns a [`CryptoError`]; nothing panics on bad input.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod curve;
pub mod eddsa;
mod error;
pub mod fr_serde;
pub mod key_cache;
pub mod l1;
pub mod poseidon;

pub use ark_bn254::Fr;
pub use error::{CryptoError, PointError};

/// Canonical 32-byte big-endian encoding of a field element (docs/protocol.md §1).
pub fn fr_to_bytes(f: &Fr) -> [u8; 32] {
    use ark_ff::{BigInteger, PrimeField};
    let mut out = [0u8; 32];
    out.copy_from_slice(&f.into_bigint().to_bytes_be());
    out
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(data).into()
}

/// Keccak-256 (the Ethereum variant, not NIST SHA3-256) of `data`.
pub fn keccak256(data: &[u8]) -> [u8; 32] {
    alloy_primitives::keccak256(data).0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_known_answer() {
        assert_eq!(hex::encode(sha256(b"abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn keccak256_known_answer() {
        assert_eq!(hex::encode(keccak256(b"")), "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    }
}
