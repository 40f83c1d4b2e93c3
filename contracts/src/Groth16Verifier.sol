// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

/// @title Groth16 verifier over BN254 for circuits with exactly one public input
/// @notice One generic contract for every zklink circuit: the verifying key is given to the
/// constructor and kept in immutables (they live in the deployed code: no storage reads, no
/// per-key compilation). Deploy one instance per verifying key.
///
/// Encodings (all values are uint256, big-endian field elements, as the EVM precompiles take them):
/// * G1 point: [x, y]; the point at infinity is [0, 0].
/// * G2 point: [x.c1, x.c0, y.c1, y.c0] for x = x.c0 + x.c1·u, y = y.c0 + y.c1·u in Fp2 = Fp[u]/(u²+1).
///   This is the precompile 0x08 (EIP-197) order: the imaginary part comes FIRST. arkworks, snarkjs
///   JSON and most libraries list c0 first; swap when converting.
/// * proof: [A.x, A.y, B.x.c1, B.x.c0, B.y.c1, B.y.c0, C.x, C.y].
///
/// Checked equation (Groth16, one public input `input`):
///   e(A, B) = e(α, β) · e(IC0 + input·IC1, γ) · e(C, δ)
/// evaluated as the single pairing product
///   e(A, B) · e(α, −β) · e(L, −γ) · e(C, −δ) = 1,   L = IC0 + input·IC1,
/// with −β, −γ, −δ computed once in the constructor, so no caller-supplied point is ever negated.
///
/// Failure policy: `verifyProof` RETURNS FALSE for every invalid proof or input it can judge:
/// * `input` is not a canonical scalar (input ≥ r, the BN254 scalar field order): without this check
///   input and input + r would both verify;
/// * a coordinate of A, B or C is ≥ p, or a point is not on its curve (A, C: y² = x³ + 3 over Fp;
///   B: y² = x³ + 3/(9+u) over Fp2), checked in Solidity before any precompile is called;
/// * the pairing product is not 1 (a wrong proof, or a proof for another input or key).
/// It REVERTS with `PrecompileFailed` only when a precompile call fails after those checks, which
/// happens in exactly two cases: B is on the twist but outside the order-r subgroup (only the pairing
/// precompile can check that; its failure burns the gas forwarded to it), or the call ran out of gas.
/// Reverting, not returning false, there matters: a caller must never mistake "too little gas" for
/// "invalid proof", and `eth_estimateGas` must see the full cost.
/// The constructor reverts with `InvalidVerifyingKey` on a malformed key.
contract Groth16Verifier {
    /// @dev BN254 base field modulus p.
    uint256 internal constant P = 21888242871839275222246405745257275088696311157297823662689037894645226208583;
    /// @dev BN254 scalar field modulus r (the order of G1 and G2).
    uint256 internal constant R = 21888242871839275222246405745257275088548364400416034343698204186575808495617;

    uint256 internal constant PRECOMPILE_ADD = 0x06;
    uint256 internal constant PRECOMPILE_MUL = 0x07;
    uint256 internal constant PRECOMPILE_PAIRING = 0x08;

    /// @dev The G2 (twist) curve constant b' = 3/(9+u) = B2_C0 + B2_C1·u.
    uint256 internal constant B2_C0 = 19485874751759354771024239261021720505790618469301721065564631296452457478373;
    uint256 internal constant B2_C1 = 266929791119991161246907387137283842545076965332900288569378510910307636690;

    /// @notice The constructor was given a verifying key that is not a valid BN254 Groth16 key.
    /// @param reason what was wrong
    error InvalidVerifyingKey(string reason);

    /// @notice A BN254 precompile call failed on a well-formed proof: B is not in the order-r subgroup,
    /// or the call ran out of gas.
    error PrecompileFailed();

    // α (G1)
    uint256 internal immutable ALPHA_X;
    uint256 internal immutable ALPHA_Y;
    // −β, −γ, −δ (G2, precompile order x.c1, x.c0, y.c1, y.c0)
    uint256 internal immutable NEG_BETA_X1;
    uint256 internal immutable NEG_BETA_X0;
    uint256 internal immutable NEG_BETA_Y1;
    uint256 internal immutable NEG_BETA_Y0;
    uint256 internal immutable NEG_GAMMA_X1;
    uint256 internal immutable NEG_GAMMA_X0;
    uint256 internal immutable NEG_GAMMA_Y1;
    uint256 internal immutable NEG_GAMMA_Y0;
    uint256 internal immutable NEG_DELTA_X1;
    uint256 internal immutable NEG_DELTA_X0;
    uint256 internal immutable NEG_DELTA_Y1;
    uint256 internal immutable NEG_DELTA_Y0;
    // IC0, IC1 (G1): the public-input linear combination L = IC0 + input·IC1
    uint256 internal immutable IC0_X;
    uint256 internal immutable IC0_Y;
    uint256 internal immutable IC1_X;
    uint256 internal immutable IC1_Y;

    /// @notice keccak256(abi.encode(alpha, beta, gamma, delta, ic0, ic1)) of the constructor arguments:
    /// lets deployment tooling and other contracts check which key an instance verifies against.
    bytes32 public immutable verifyingKeyHash;

    /// @notice Stores a verifying key (points as in the contract documentation, G2 in precompile order).
    /// Reverts with `InvalidVerifyingKey` if a coordinate is not canonical, a G1 point is not on the
    /// curve, alpha is the point at infinity, or a G2 point is the point at infinity, not on the twist or
    /// not in the order-r subgroup (checked by one call to the pairing precompile, ~0.25M gas once).
    /// @param alpha α in G1: [x, y]
    /// @param beta β in G2: [x.c1, x.c0, y.c1, y.c0]
    /// @param gamma γ in G2: [x.c1, x.c0, y.c1, y.c0]
    /// @param delta δ in G2: [x.c1, x.c0, y.c1, y.c0]
    /// @param ic0 the constant term of the public-input combination (gamma_abc_g1[0]) in G1
    /// @param ic1 the coefficient of the single public input (gamma_abc_g1[1]) in G1
    constructor(
        uint256[2] memory alpha,
        uint256[4] memory beta,
        uint256[4] memory gamma,
        uint256[4] memory delta,
        uint256[2] memory ic0,
        uint256[2] memory ic1
    ) {
        if (!_isG1(alpha[0], alpha[1]) || (alpha[0] | alpha[1]) == 0) {
            revert InvalidVerifyingKey("alpha is not a finite G1 point");
        }
        if (!_isG1(ic0[0], ic0[1])) revert InvalidVerifyingKey("ic0 is not a G1 point");
        if (!_isG1(ic1[0], ic1[1])) revert InvalidVerifyingKey("ic1 is not a G1 point");
        uint256[4] memory negBeta = _negG2(beta, "beta");
        uint256[4] memory negGamma = _negG2(gamma, "gamma");
        uint256[4] memory negDelta = _negG2(delta, "delta");

        // e(α, β)·e(α, −β)·e(α, γ)·e(α, −γ)·e(α, δ)·e(α, −δ) = 1 for valid points; the precompile
        // fails if a G2 point is outside the order-r subgroup.
        uint256[36] memory pairs;
        uint256[4][6] memory g2s = [beta, negBeta, gamma, negGamma, delta, negDelta];
        for (uint256 i = 0; i < 6; ++i) {
            pairs[6 * i] = alpha[0];
            pairs[6 * i + 1] = alpha[1];
            for (uint256 j = 0; j < 4; ++j) {
                pairs[6 * i + 2 + j] = g2s[i][j];
            }
        }
        bool ok;
        uint256 result;
        assembly ("memory-safe") {
            let out := mload(0x40)
            ok := staticcall(gas(), PRECOMPILE_PAIRING, pairs, 1152, out, 0x20)
            ok := and(ok, eq(returndatasize(), 0x20))
            result := mload(out)
        }
        if (!ok || result != 1) {
            revert InvalidVerifyingKey("a G2 point is not in the order-r subgroup (or out of gas)");
        }

        ALPHA_X = alpha[0];
        ALPHA_Y = alpha[1];
        NEG_BETA_X1 = negBeta[0];
        NEG_BETA_X0 = negBeta[1];
        NEG_BETA_Y1 = negBeta[2];
        NEG_BETA_Y0 = negBeta[3];
        NEG_GAMMA_X1 = negGamma[0];
        NEG_GAMMA_X0 = negGamma[1];
        NEG_GAMMA_Y1 = negGamma[2];
        NEG_GAMMA_Y0 = negGamma[3];
        NEG_DELTA_X1 = negDelta[0];
        NEG_DELTA_X0 = negDelta[1];
        NEG_DELTA_Y1 = negDelta[2];
        NEG_DELTA_Y0 = negDelta[3];
        IC0_X = ic0[0];
        IC0_Y = ic0[1];
        IC1_X = ic1[0];
        IC1_Y = ic1[1];
        verifyingKeyHash = keccak256(abi.encode(alpha, beta, gamma, delta, ic0, ic1));
    }

    /// @notice Whether `proof` is a valid Groth16 proof of the statement with public input `input`
    /// under this contract's verifying key. Returns false for a non-canonical input (input ≥ r),
    /// malformed points and failed pairings; reverts with `PrecompileFailed` only if B is outside the
    /// subgroup or gas ran out (see the contract documentation).
    /// @param proof [A.x, A.y, B.x.c1, B.x.c0, B.y.c1, B.y.c0, C.x, C.y] (G2 in precompile order)
    /// @param input the single public input, a BN254 scalar in [0, r)
    /// @return valid true iff the proof verifies
    function verifyProof(uint256[8] calldata proof, uint256 input) external view returns (bool valid) {
        if (input >= R) return false;
        if (!_isG1(proof[0], proof[1]) || !_isG1(proof[6], proof[7])) return false;
        if (!_isG2(proof[2], proof[3], proof[4], proof[5])) return false;

        // L = IC0 + input·IC1 (scratch: [IC1, input] for ecMul, then [IC0, input·IC1] for ecAdd).
        uint256[4] memory acc;
        acc[0] = IC1_X;
        acc[1] = IC1_Y;
        acc[2] = input;
        bool ok;
        assembly ("memory-safe") {
            ok := staticcall(gas(), PRECOMPILE_MUL, acc, 0x60, add(acc, 0x40), 0x40)
        }
        if (!ok) revert PrecompileFailed();
        acc[0] = IC0_X;
        acc[1] = IC0_Y;
        assembly ("memory-safe") {
            ok := staticcall(gas(), PRECOMPILE_ADD, acc, 0x80, acc, 0x40)
        }
        if (!ok) revert PrecompileFailed();

        uint256[24] memory pairs;
        // e(A, B)
        pairs[0] = proof[0];
        pairs[1] = proof[1];
        pairs[2] = proof[2];
        pairs[3] = proof[3];
        pairs[4] = proof[4];
        pairs[5] = proof[5];
        // e(α, −β)
        pairs[6] = ALPHA_X;
        pairs[7] = ALPHA_Y;
        pairs[8] = NEG_BETA_X1;
        pairs[9] = NEG_BETA_X0;
        pairs[10] = NEG_BETA_Y1;
        pairs[11] = NEG_BETA_Y0;
        // e(L, −γ)
        pairs[12] = acc[0];
        pairs[13] = acc[1];
        pairs[14] = NEG_GAMMA_X1;
        pairs[15] = NEG_GAMMA_X0;
        pairs[16] = NEG_GAMMA_Y1;
        pairs[17] = NEG_GAMMA_Y0;
        // e(C, −δ)
        pairs[18] = proof[6];
        pairs[19] = proof[7];
        pairs[20] = NEG_DELTA_X1;
        pairs[21] = NEG_DELTA_X0;
        pairs[22] = NEG_DELTA_Y1;
        pairs[23] = NEG_DELTA_Y0;

        uint256 result;
        assembly ("memory-safe") {
            // Output goes to the first word of `pairs`, which is no longer needed.
            ok := staticcall(gas(), PRECOMPILE_PAIRING, pairs, 768, pairs, 0x20)
            ok := and(ok, eq(returndatasize(), 0x20))
            result := mload(pairs)
        }
        if (!ok) revert PrecompileFailed();
        return result == 1;
    }

    /// @dev Whether (x, y) is a canonical encoding of a G1 point: coordinates < p and either the point
    /// at infinity (0, 0) or on y² = x³ + 3 (G1 has cofactor 1, so on the curve means in the group).
    function _isG1(uint256 x, uint256 y) internal pure returns (bool) {
        if (x >= P || y >= P) return false;
        if ((x | y) == 0) return true;
        return mulmod(y, y, P) == addmod(mulmod(x, mulmod(x, x, P), P), 3, P);
    }

    /// @dev Whether [x1, x0, y1, y0] (precompile order) has coordinates < p and is either the point at
    /// infinity (all zero) or on the twist y² = x³ + b' over Fp2 = Fp[u]/(u² + 1). Subgroup membership is
    /// left to the pairing precompile.
    function _isG2(uint256 x1, uint256 x0, uint256 y1, uint256 y0) internal pure returns (bool) {
        if (x1 >= P || x0 >= P || y1 >= P || y0 >= P) return false;
        if ((x1 | x0 | y1 | y0) == 0) return true;
        // x² = (x0² − x1²) + 2·x0·x1·u
        uint256 s0 = addmod(mulmod(x0, x0, P), P - mulmod(x1, x1, P), P);
        uint256 s1 = mulmod(2, mulmod(x0, x1, P), P);
        // x³ + b' = x²·x + b'
        uint256 r0 = addmod(addmod(mulmod(s0, x0, P), P - mulmod(s1, x1, P), P), B2_C0, P);
        uint256 r1 = addmod(addmod(mulmod(s0, x1, P), mulmod(s1, x0, P), P), B2_C1, P);
        // y² = (y0² − y1²) + 2·y0·y1·u
        return addmod(mulmod(y0, y0, P), P - mulmod(y1, y1, P), P) == r0 && mulmod(2, mulmod(y0, y1, P), P) == r1;
    }

    /// @dev −Q for a G2 point Q in precompile order; reverts if a coordinate is not canonical, Q is the
    /// point at infinity (a degenerate key) or Q is not on the twist.
    function _negG2(uint256[4] memory q, string memory name) internal pure returns (uint256[4] memory neg) {
        if (q[0] >= P || q[1] >= P || q[2] >= P || q[3] >= P) {
            revert InvalidVerifyingKey(string.concat(name, " has a coordinate >= p"));
        }
        if ((q[0] | q[1] | q[2] | q[3]) == 0) revert InvalidVerifyingKey(string.concat(name, " is the point at infinity"));
        if (!_isG2(q[0], q[1], q[2], q[3])) revert InvalidVerifyingKey(string.concat(name, " is not on the twist"));
        neg[0] = q[0];
        neg[1] = q[1];
        neg[2] = q[2] == 0 ? 0 : P - q[2];
        neg[3] = q[3] == 0 ? 0 : P - q[3];
    }
}
