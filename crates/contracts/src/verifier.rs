//! The generic Groth16/BN254 verifier contract (`contracts/src/Groth16Verifier.sol`): bindings and
//! the EVM encoding of arkworks keys and proofs.
//!
//! Encoding (what the BN254 precompiles 0x06–0x08 take): field elements are big-endian `uint256`;
//! a G1 point is `[x, y]`, the point at infinity `[0, 0]`; a G2 point is `[x.c1, x.c0, y.c1, y.c0]`
//! — the imaginary part FIRST, the reverse of arkworks' (and snarkjs') `c0, c1`. A proof is
//! `[A.x, A.y, B.x.c1, B.x.c0, B.y.c1, B.y.c0, C.x, C.y]`.
//!
//! The contract returns `false` (it never reverts) for an input ≥ the scalar field order, for
//! malformed points and for failed pairings; its constructor reverts on a malformed key.

use alloy::primitives::{keccak256, B256, U256};
use alloy::providers::Provider;
use alloy::sol_types::SolConstructor;
use ark_bn254::{Bn254, Fq2, G1Affine, G2Affine};
use ark_ec::AffineRepr;
use ark_ff::{BigInteger, PrimeField};
use ark_groth16::{Proof, VerifyingKey};

use crate::ContractsError;

alloy::sol!(
    /// Bindings for `contracts/src/Groth16Verifier.sol`, generated from its committed artifact
    /// (ABI and creation code): `Groth16Verifier::deploy`, `verifyProof`, `verifyingKeyHash`.
    #[sol(rpc)]
    #[allow(missing_docs)]
    #[derive(Debug, PartialEq, Eq)]
    Groth16Verifier,
    "../../contracts/artifacts/Groth16Verifier.json"
);

/// A prime-field element as the `uint256` the EVM uses (canonical, big-endian).
pub fn field_to_u256<F: PrimeField>(f: &F) -> U256 {
    U256::from_be_slice(&f.into_bigint().to_bytes_be())
}

/// A G1 point as `[x, y]`; the point at infinity is `[0, 0]`.
pub fn g1_to_evm(p: &G1Affine) -> [U256; 2] {
    match p.xy() {
        Some((x, y)) => [field_to_u256(&x), field_to_u256(&y)],
        None => [U256::ZERO; 2],
    }
}

/// A G2 point in the precompile's order `[x.c1, x.c0, y.c1, y.c0]`; the point at infinity is zeros.
pub fn g2_to_evm(p: &G2Affine) -> [U256; 4] {
    match p.xy() {
        Some((x, y)) => {
            let [x1, x0] = fq2(&x);
            let [y1, y0] = fq2(&y);
            [x1, x0, y1, y0]
        }
        None => [U256::ZERO; 4],
    }
}

/// `[c1, c0]`: the EVM puts the coefficient of `u` first.
fn fq2(f: &Fq2) -> [U256; 2] {
    [field_to_u256(&f.c1), field_to_u256(&f.c0)]
}

/// A proof as `verifyProof` takes it: `[A.x, A.y, B.x.c1, B.x.c0, B.y.c1, B.y.c0, C.x, C.y]`.
pub fn proof_to_evm(proof: &Proof<Bn254>) -> [U256; 8] {
    let [ax, ay] = g1_to_evm(&proof.a);
    let [bx1, bx0, by1, by0] = g2_to_evm(&proof.b);
    let [cx, cy] = g1_to_evm(&proof.c);
    [ax, ay, bx1, bx0, by1, by0, cx, cy]
}

/// The constructor arguments that make a `Groth16Verifier` check proofs against `vk`. Fails unless
/// the key has exactly one public input (every zklink circuit has one: the block commitment).
pub fn constructor_args(vk: &VerifyingKey<Bn254>) -> Result<Groth16Verifier::constructorCall, ContractsError> {
    let [ic0, ic1] = vk.gamma_abc_g1.as_slice() else {
        let points = vk.gamma_abc_g1.len();
        return Err(ContractsError::PublicInputCount { got: points.saturating_sub(1), points });
    };
    Ok(Groth16Verifier::constructorCall {
        alpha: g1_to_evm(&vk.alpha_g1),
        beta: g2_to_evm(&vk.beta_g2),
        gamma: g2_to_evm(&vk.gamma_g2),
        delta: g2_to_evm(&vk.delta_g2),
        ic0: g1_to_evm(ic0),
        ic1: g1_to_evm(ic1),
    })
}

/// What a deployed verifier returns from `verifyingKeyHash()` for these constructor arguments:
/// `keccak256(abi.encode(alpha, beta, gamma, delta, ic0, ic1))`.
pub fn verifying_key_hash(args: &Groth16Verifier::constructorCall) -> B256 {
    keccak256(args.abi_encode())
}

/// Deploys a verifier for `vk` from the provider's default sender and returns the bound instance.
pub async fn deploy<P: Provider>(
    provider: P,
    vk: &VerifyingKey<Bn254>,
) -> Result<Groth16Verifier::Groth16VerifierInstance<P>, ContractsError> {
    let a = constructor_args(vk)?;
    Groth16Verifier::deploy(provider, a.alpha, a.beta, a.gamma, a.delta, a.ic0, a.ic1)
        .await
        .map_err(|e| ContractsError::Contract { what: "deploying Groth16Verifier", source: Box::new(e) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::sol_types::SolCall;
    use ark_ec::{AffineRepr, CurveGroup};
    use ark_ff::{One, Zero};

    #[test]
    fn g2_puts_the_imaginary_part_first() {
        let g = G2Affine::generator();
        let e = g2_to_evm(&g);
        let (x, y) = g.xy().unwrap();
        assert_eq!(e, [field_to_u256(&x.c1), field_to_u256(&x.c0), field_to_u256(&y.c1), field_to_u256(&y.c0)]);
        // EIP-197's generator of G2, in the precompile's order.
        assert_eq!(e[0].to_string(), "11559732032986387107991004021392285783925812861821192530917403151452391805634");
        assert_eq!(e[1].to_string(), "10857046999023057135944570762232829481370756359578518086990519993285655852781");
        assert_eq!(g2_to_evm(&G2Affine::zero()), [U256::ZERO; 4]);
    }

    #[test]
    fn g1_encoding_and_infinity() {
        assert_eq!(g1_to_evm(&G1Affine::generator()), [U256::from(1), U256::from(2)]);
        assert_eq!(g1_to_evm(&G1Affine::zero()), [U256::ZERO; 2]);
        assert_eq!(field_to_u256(&ark_bn254::Fr::zero()), U256::ZERO);
        assert_eq!(
            field_to_u256(&-ark_bn254::Fr::one()) + U256::from(1),
            U256::from_be_slice(&ark_bn254::Fr::MODULUS.to_bytes_be())
        );
    }

    #[test]
    fn keys_with_other_than_one_public_input_are_refused() {
        let g1 = G1Affine::generator();
        let g2 = G2Affine::generator();
        let vk = |n: usize| VerifyingKey::<Bn254> {
            alpha_g1: g1,
            beta_g2: g2,
            gamma_g2: g2,
            delta_g2: g2,
            gamma_abc_g1: vec![(g1 * ark_bn254::Fr::from(3u64)).into_affine(); n + 1],
        };
        assert!(constructor_args(&vk(1)).is_ok());
        for n in [0, 2] {
            let err = constructor_args(&vk(n)).unwrap_err();
            assert!(matches!(err, ContractsError::PublicInputCount { got, .. } if got == n), "{err}");
        }
    }

    #[test]
    fn the_binding_is_the_artifact() {
        let artifact = crate::artifacts::groth16_verifier();
        assert_eq!(&Groth16Verifier::BYTECODE, &artifact.bytecode);
        assert_eq!(&Groth16Verifier::DEPLOYED_BYTECODE, &artifact.deployed_bytecode);
        let f = artifact.abi.function("verifyProof").expect("verifyProof in the ABI");
        assert_eq!(f[0].signature(), "verifyProof(uint256[8],uint256)");
        assert_eq!(f[0].selector(), Groth16Verifier::verifyProofCall::SELECTOR);
    }
}
