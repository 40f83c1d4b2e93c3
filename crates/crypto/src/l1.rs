//! L1 (secp256k1 / Ethereum) helpers: EIP-191 `personal_sign`, derivation of the L2 EdDSA key
//! from an L1 signature, and the EIP-712 `ChangePubKey` authorisation.
//!
//! Signatures are 65 bytes `r ‖ s ‖ v` with `v ∈ {27, 28}` (what `ecrecover` expects), signing
//! is RFC 6979 deterministic with low `s` (EIP-2) — the same bytes MetaMask / ethers produce —
//! and recovery rejects high-`s` signatures and any other `v`.

use alloy_primitives::{FixedBytes, U256};
use alloy_sol_types::{Eip712Domain, SolStruct};
use k256::ecdsa::{RecoveryId, Signature as EcdsaSignature, SigningKey, VerifyingKey};

use crate::eddsa::{PrivateKey, PubKeyHash};
use crate::{keccak256, CryptoError};

/// An Ethereum address.
pub type Address = alloy_primitives::Address;

/// The message an L1 wallet signs (EIP-191 `personal_sign`) to derive its zklink L2 key.
pub fn l2_key_message(network: &str) -> String {
    format!(
        "zklink L2 key\nSigning this message derives your zklink trading key for network {network}. \
         Only sign it on a zklink client you trust."
    )
}

/// The EIP-191 hash `keccak256("\x19Ethereum Signed Message:\n" ‖ len(message) ‖ message)`.
pub fn personal_message_hash(message: &[u8]) -> [u8; 32] {
    let mut data = format!("\x19Ethereum Signed Message:\n{}", message.len()).into_bytes();
    data.extend_from_slice(message);
    keccak256(&data)
}

/// EIP-191 `personal_sign` of `message`: 65 bytes `r ‖ s ‖ v`, deterministic (RFC 6979), low s.
pub fn personal_sign(secret: &SigningKey, message: &[u8]) -> [u8; 65] {
    sign_hash(secret, &personal_message_hash(message))
}

/// Recovers the address that produced `sig` over `message` with `personal_sign`.
pub fn recover_personal_sign(message: &[u8], sig: &[u8; 65]) -> Result<Address, CryptoError> {
    recover_hash(&personal_message_hash(message), sig)
}

/// L2 private key bytes = `keccak256(sig)`, `sig` = `personal_sign(l2_key_message(network))`.
pub fn l2_key_from_signature(sig: &[u8; 65]) -> PrivateKey {
    PrivateKey::from_bytes(keccak256(sig))
}

/// Derives the L2 key of `secret` for `network` (deterministic).
pub fn derive_l2_key(secret: &SigningKey, network: &str) -> PrivateKey {
    l2_key_from_signature(&personal_sign(secret, l2_key_message(network).as_bytes()))
}

/// The Ethereum address of an L1 key: the last 20 bytes of keccak256 of the uncompressed
/// public key (without the 0x04 prefix).
pub fn address_of(secret: &SigningKey) -> Address {
    address_of_verifying_key(secret.verifying_key())
}

fn address_of_verifying_key(key: &VerifyingKey) -> Address {
    let point = key.to_sec1_point(false);
    let bytes = point.as_bytes();
    // Uncompressed SEC1: 0x04 ‖ x ‖ y.
    Address::from_word(keccak256(bytes.get(1..).unwrap_or_default()).into())
}

/// Signs a 32-byte prehash: `r ‖ s ‖ (27 + y parity)`.
pub fn sign_hash(secret: &SigningKey, hash: &[u8; 32]) -> [u8; 65] {
    // k256 normalises s to the lower half and adjusts the recovery id accordingly.
    let (sig, recid) = secret.sign_prehash_recoverable(hash);
    let mut out = [0u8; 65];
    out[..64].copy_from_slice(&sig.to_bytes());
    out[64] = 27 + u8::from(recid.is_y_odd());
    out
}

/// secp256k1 order n divided by 2 (big-endian); EIP-2 requires s ≤ n/2.
const HALF_ORDER: [u8; 32] = [
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x5d, 0x57, 0x6e,
    0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0,
];

/// Recovers the signer address of a 65-byte `r ‖ s ‖ v` signature over a 32-byte prehash, with
/// the checks `ecrecover`-based contracts apply: v ∈ {27, 28}, 1 ≤ r, s < n, s ≤ n/2.
pub fn recover_hash(hash: &[u8; 32], sig: &[u8; 65]) -> Result<Address, CryptoError> {
    let v = sig[64];
    if v != 27 && v != 28 {
        return Err(CryptoError::InvalidRecoveryByte { v });
    }
    let signature = EcdsaSignature::from_slice(&sig[..64])
        .map_err(|_| CryptoError::EcdsaRecovery { reason: "r or s is zero or not below the secp256k1 group order" })?;
    if sig[32..64] > HALF_ORDER[..] {
        return Err(CryptoError::HighS);
    }
    let recid = RecoveryId::new(v == 28, false);
    let key = VerifyingKey::recover_from_prehash(hash, &signature, recid).map_err(|_| CryptoError::EcdsaRecovery {
        reason: "no public key can be recovered from (r, s, v) for this message",
    })?;
    Ok(address_of_verifying_key(&key))
}

/// Where a `ChangePubKey` authorisation is valid: the L1 chain and the zklink contract on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct L1Domain {
    /// EIP-155 chain id of the L1.
    pub l1_chain_id: u64,
    /// The zklink contract on that chain.
    pub verifying_contract: Address,
}

mod typed {
    alloy_sol_types::sol! {
        /// EIP-712 type authorising an L2 public key hash for an account.
        #[derive(Debug, PartialEq, Eq)]
        struct ChangePubKey {
            bytes20 pubKeyHash;
            uint32 nonce;
            uint32 accountId;
        }
    }
}
pub use typed::ChangePubKey as ChangePubKeyMessage;

/// EIP-712 name of the zklink domain.
pub const EIP712_NAME: &str = "zklink";
/// EIP-712 version of the zklink domain.
pub const EIP712_VERSION: &str = "1";
/// The EIP-712 type string of [`ChangePubKeyMessage`].
pub const CHANGE_PUBKEY_TYPE: &str = "ChangePubKey(bytes20 pubKeyHash,uint32 nonce,uint32 accountId)";

impl L1Domain {
    /// The EIP-712 domain `{name: "zklink", version: "1", chainId, verifyingContract}`.
    pub fn eip712_domain(&self) -> Eip712Domain {
        Eip712Domain::new(
            Some(EIP712_NAME.into()),
            Some(EIP712_VERSION.into()),
            Some(U256::from(self.l1_chain_id)),
            Some(self.verifying_contract),
            None,
        )
    }

    /// The EIP-712 domain separator (what the contract stores / recomputes).
    pub fn domain_separator(&self) -> [u8; 32] {
        self.eip712_domain().hash_struct().0
    }
}

fn change_pubkey_message(pkh: &PubKeyHash, nonce: u32, account_id: u32) -> ChangePubKeyMessage {
    ChangePubKeyMessage { pubKeyHash: FixedBytes(pkh.0), nonce, accountId: account_id }
}

/// The EIP-712 signing hash `keccak256(0x1901 ‖ domainSeparator ‖ hashStruct(ChangePubKey))`.
pub fn change_pubkey_signing_hash(domain: &L1Domain, pkh: &PubKeyHash, nonce: u32, account_id: u32) -> [u8; 32] {
    change_pubkey_message(pkh, nonce, account_id).eip712_signing_hash(&domain.eip712_domain()).0
}

/// Signs the EIP-712 `ChangePubKey` authorisation (what `eth_signTypedData_v4` produces).
pub fn sign_change_pubkey(
    secret: &SigningKey,
    domain: &L1Domain,
    pkh: &PubKeyHash,
    nonce: u32,
    account_id: u32,
) -> [u8; 65] {
    sign_hash(secret, &change_pubkey_signing_hash(domain, pkh, nonce, account_id))
}

/// Recovers the L1 address that authorised `pkh` for `account_id` at `nonce` on `domain`.
/// Rejects high-s signatures and v ∉ {27, 28}.
pub fn recover_change_pubkey_signer(
    domain: &L1Domain,
    pkh: &PubKeyHash,
    nonce: u32,
    account_id: u32,
    sig: &[u8; 65],
) -> Result<Address, CryptoError> {
    recover_hash(&change_pubkey_signing_hash(domain, pkh, nonce, account_id), sig)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(i: u8) -> SigningKey {
        SigningKey::from_slice(&[i; 32]).unwrap()
    }

    fn domain() -> L1Domain {
        L1Domain { l1_chain_id: 31337, verifying_contract: Address::repeat_byte(0x42) }
    }

    #[test]
    fn known_address() {
        // Well-known: private key 0x…01 → 0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf.
        let mut k = [0u8; 32];
        k[31] = 1;
        let sk = SigningKey::from_slice(&k).unwrap();
        assert_eq!(address_of(&sk).to_checksum(None), "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf");
    }

    #[test]
    fn personal_sign_roundtrip_and_low_s() {
        for i in 1..20u8 {
            let sk = secret(i);
            let msg = format!("message {i}");
            let sig = personal_sign(&sk, msg.as_bytes());
            assert!(sig[32..64] <= HALF_ORDER[..]);
            assert!(sig[64] == 27 || sig[64] == 28);
            assert_eq!(recover_personal_sign(msg.as_bytes(), &sig), Ok(address_of(&sk)));
            assert_ne!(recover_personal_sign(b"other", &sig), Ok(address_of(&sk)));
            assert_eq!(sig, personal_sign(&sk, msg.as_bytes()), "deterministic");
        }
    }

    #[test]
    fn bad_v_and_high_s_rejected() {
        let sk = secret(3);
        let sig = personal_sign(&sk, b"x");
        for v in [0u8, 1, 26, 29, 255] {
            let mut bad = sig;
            bad[64] = v;
            assert_eq!(recover_personal_sign(b"x", &bad), Err(CryptoError::InvalidRecoveryByte { v }));
        }
        // s' = n - s with flipped v is the same signature in high-s form.
        let n =
            num_bigint::BigUint::parse_bytes(b"FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141", 16)
                .unwrap();
        let s = num_bigint::BigUint::from_bytes_be(&sig[32..64]);
        let high = (&n - s).to_bytes_be();
        let mut bad = sig;
        bad[32..64].fill(0);
        bad[64 - high.len()..64].copy_from_slice(&high);
        bad[64] = if sig[64] == 27 { 28 } else { 27 };
        assert_eq!(recover_personal_sign(b"x", &bad), Err(CryptoError::HighS));
        // r = 0 / s = 0.
        let mut zero = sig;
        zero[..32].fill(0);
        assert!(matches!(recover_personal_sign(b"x", &zero), Err(CryptoError::EcdsaRecovery { .. })));
        let mut ff = sig;
        ff[..64].fill(0xff);
        assert!(recover_personal_sign(b"x", &ff).is_err());
    }

    #[test]
    fn l2_key_derivation_is_deterministic() {
        let sk = secret(7);
        let a = derive_l2_key(&sk, "devnet");
        let b = derive_l2_key(&sk, "devnet");
        assert_eq!(a.to_bytes(), b.to_bytes());
        assert_ne!(a.to_bytes(), derive_l2_key(&sk, "mainnet").to_bytes());
        assert_ne!(a.to_bytes(), derive_l2_key(&secret(8), "devnet").to_bytes());
        let sig = personal_sign(&sk, l2_key_message("devnet").as_bytes());
        assert_eq!(l2_key_from_signature(&sig).to_bytes(), a.to_bytes());
        assert!(l2_key_message("devnet").contains("network devnet."));
    }

    #[test]
    fn change_pubkey_roundtrip() {
        let sk = secret(9);
        let pkh = PubKeyHash([0x11; 20]);
        let sig = sign_change_pubkey(&sk, &domain(), &pkh, 5, 77);
        assert_eq!(recover_change_pubkey_signer(&domain(), &pkh, 5, 77, &sig), Ok(address_of(&sk)));
        // Any change of the signed data recovers a different address (or fails).
        let other_domain = L1Domain { l1_chain_id: 1, ..domain() };
        for recovered in [
            recover_change_pubkey_signer(&domain(), &pkh, 6, 77, &sig),
            recover_change_pubkey_signer(&domain(), &pkh, 5, 78, &sig),
            recover_change_pubkey_signer(&domain(), &PubKeyHash([0x12; 20]), 5, 77, &sig),
            recover_change_pubkey_signer(&other_domain, &pkh, 5, 77, &sig),
        ] {
            assert_ne!(recovered, Ok(address_of(&sk)));
        }
    }

    #[test]
    fn eip712_structure() {
        use alloy_sol_types::SolStruct;
        assert_eq!(ChangePubKeyMessage::eip712_encode_type(), CHANGE_PUBKEY_TYPE);
        // Independent recomputation of the EIP-712 hash from its definition.
        let d = domain();
        let pkh = PubKeyHash([0x22; 20]);
        let word_u64 = |x: u64| {
            let mut w = [0u8; 32];
            w[24..].copy_from_slice(&x.to_be_bytes());
            w
        };
        let mut dom =
            keccak256(b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)").to_vec();
        dom.extend_from_slice(&keccak256(b"zklink"));
        dom.extend_from_slice(&keccak256(b"1"));
        dom.extend_from_slice(&word_u64(d.l1_chain_id));
        dom.extend_from_slice(d.verifying_contract.into_word().as_slice());
        let separator = keccak256(&dom);
        assert_eq!(d.domain_separator(), separator);
        let mut st = keccak256(CHANGE_PUBKEY_TYPE.as_bytes()).to_vec();
        let mut pkh_word = [0u8; 32];
        pkh_word[..20].copy_from_slice(&pkh.0); // bytesN are left-aligned
        st.extend_from_slice(&pkh_word);
        st.extend_from_slice(&word_u64(3));
        st.extend_from_slice(&word_u64(4));
        let mut msg = vec![0x19, 0x01];
        msg.extend_from_slice(&separator);
        msg.extend_from_slice(&keccak256(&st));
        assert_eq!(change_pubkey_signing_hash(&d, &pkh, 3, 4), keccak256(&msg));
    }
}
