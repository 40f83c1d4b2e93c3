//! Poseidon over the BN254 scalar field with the circomlib parameters (x^5 S-box, 8 full rounds,
//! width-dependent partial rounds, the constants of `light_poseidon::parameters::bn254_x5`).
//!
//! The output is `state[0]` after the permutation of `[0, inputs...]`, exactly like circomlibjs'
//! `poseidon(inputs)` and light-poseidon's `Poseidon::new_circom(n)`.
//!
//! # Implementation
//!
//! The state is a fixed-size array (`[Fr; T]`), so hashing never allocates. The round constants
//! and MDS matrix of every width are loaded once into a [`OnceLock`] and transformed into the
//! equivalent "optimised" schedule of the Poseidon paper (appendix B), which circomlib's
//! `poseidon_opt` also uses:
//!
//! * constants are added *after* the S-box (the constants of round `r + 1` are pulled back through
//!   the MDS matrix: `M x + c = M (x + M⁻¹ c)`), so in partial rounds only one scalar constant, on
//!   `state[0]`, remains — the other coordinates are pushed back, round by round, into the last
//!   full round before the partial rounds;
//! * in the partial rounds the MDS matrix `N = [[n00, n0ᵀ], [n1, N̂]]` is factored as
//!   `[[n00, n0ᵀ N̂⁻¹], [n1, I]] · diag(1, N̂)`; the dense factor `diag(1, N̂)` does not touch
//!   `state[0]`, so it commutes with the partial S-box and is merged into the previous round's
//!   matrix. Each partial round then costs `2t - 1` multiplications instead of `t²`.
//!
//! Both transformations are exact (linear algebra over the field), so the output is bit-identical
//! to the textbook permutation; the tests compare every width against light-poseidon and the
//! committed circomlibjs vectors. If the transformation could not be built (a singular matrix,
//! which does not happen for these parameters) the textbook schedule is used instead.

use std::sync::OnceLock;

use ark_ff::{AdditiveGroup, Field, PrimeField, Zero};

use crate::{CryptoError, Fr};

/// Largest number of inputs [`hash`] accepts (width t = 13).
pub const MAX_INPUTS: usize = 12;
/// Bytes per field element in [`bytes_to_fields`] (31 bytes always fit below the modulus).
pub const CHUNK_BYTES: usize = 31;
/// Longest message [`hash_bytes`] accepts: 12 chunks of 31 bytes.
pub const MAX_MESSAGE_BYTES: usize = MAX_INPUTS * CHUNK_BYTES;

/// circomlib Poseidon of `inputs` (t = `inputs.len() + 1`, 1 to 12 inputs). Returns `state[0]`.
pub fn hash(inputs: &[Fr]) -> Result<Fr, CryptoError> {
    Ok(match inputs.len() {
        1 => hash_fixed::<2>(inputs),
        2 => hash_fixed::<3>(inputs),
        3 => hash_fixed::<4>(inputs),
        4 => hash_fixed::<5>(inputs),
        5 => hash_fixed::<6>(inputs),
        6 => hash_fixed::<7>(inputs),
        7 => hash_fixed::<8>(inputs),
        8 => hash_fixed::<9>(inputs),
        9 => hash_fixed::<10>(inputs),
        10 => hash_fixed::<11>(inputs),
        11 => hash_fixed::<12>(inputs),
        12 => hash_fixed::<13>(inputs),
        got => return Err(CryptoError::PoseidonArity { got }),
    })
}

/// Poseidon of two elements (t = 3): binary Merkle nodes and the public-key hash.
pub fn hash2(a: Fr, b: Fr) -> Fr {
    hash_fixed::<3>(&[a, b])
}

/// Poseidon of four elements (t = 5): 4-ary Merkle nodes.
pub fn hash4(x: &[Fr; 4]) -> Fr {
    hash_fixed::<5>(x)
}

/// Poseidon of five elements (t = 6): account leaves and the EdDSA challenge.
pub fn hash5(x: &[Fr; 5]) -> Fr {
    hash_fixed::<6>(x)
}

/// Splits `bytes` into 31-byte chunks, each read as a big-endian integer (the last chunk may be
/// shorter and is read as a shorter big-endian integer). Empty input gives no elements.
pub fn bytes_to_fields(bytes: &[u8]) -> Vec<Fr> {
    bytes
        .chunks(CHUNK_BYTES)
        .map(Fr::from_be_bytes_mod_order) // < 2^248 < p: never actually reduced
        .collect()
}

/// The field element a transaction signs: `hash(bytes_to_fields(bytes))`.
///
/// Errors if `bytes` is empty or longer than [`MAX_MESSAGE_BYTES`] (372 bytes, 12 chunks).
pub fn hash_bytes(bytes: &[u8]) -> Result<Fr, CryptoError> {
    if bytes.is_empty() {
        return Err(CryptoError::EmptyMessage);
    }
    if bytes.len() > MAX_MESSAGE_BYTES {
        return Err(CryptoError::MessageTooLong { len: bytes.len(), max: MAX_MESSAGE_BYTES });
    }
    hash(&bytes_to_fields(bytes))
}

// ---------------------------------------------------------------------------------------------
// Permutation
// ---------------------------------------------------------------------------------------------

/// `inputs.len()` must be `T - 1` (guaranteed by every caller in this module).
#[inline]
fn hash_fixed<const T: usize>(inputs: &[Fr]) -> Fr
where
    Widths: HasSchedule<T>,
{
    let mut state = [Fr::ZERO; T];
    for (s, x) in state[1..].iter_mut().zip(inputs) {
        *s = *x;
    }
    let schedule = <Widths as HasSchedule<T>>::schedule();
    match &schedule.optimised {
        Some(opt) => opt.permute(state),
        None => schedule.permute_reference(state),
    }
}

#[inline(always)]
fn pow5(x: Fr) -> Fr {
    let x2 = x.square();
    let x4 = x2.square();
    x4 * x
}

#[inline(always)]
fn sbox_full<const T: usize>(state: &mut [Fr; T]) {
    for s in state.iter_mut() {
        *s = pow5(*s);
    }
}

#[inline(always)]
fn add_constants<const T: usize>(state: &mut [Fr; T], c: &[Fr; T]) {
    for (s, c) in state.iter_mut().zip(c) {
        *s += c;
    }
}

/// `Σ row[i]·x[i]` with ark-ff's interleaved Montgomery sum of products (one reduction per
/// three products for BN254 instead of one per product).
#[inline(always)]
fn dot<const T: usize>(row: &[Fr; T], x: &[Fr; T]) -> Fr {
    Fr::sum_of_products(row, x)
}

/// `M x` with `new[i] = Σ_j m[i][j] x[j]`.
#[inline(always)]
fn mat_vec<const T: usize>(m: &[[Fr; T]; T], x: &[Fr; T]) -> [Fr; T] {
    let mut out = [Fr::ZERO; T];
    for (o, row) in out.iter_mut().zip(m) {
        *o = dot(row, x);
    }
    out
}

/// The constants of one width, as shipped by light-poseidon, plus the optimised schedule.
struct Schedule<const T: usize> {
    /// Round constants, one row per round (textbook order: added before the S-box).
    ark: Vec<[Fr; T]>,
    mds: [[Fr; T]; T],
    full_rounds: usize,
    partial_rounds: usize,
    optimised: Option<Optimised<T>>,
}

/// One partial round of the optimised schedule:
/// `s0 = x0^5 + k; x0' = row · (s0, x1, …); x_j' = x_j + col_j · s0`.
struct SparseRound<const T: usize> {
    k: Fr,
    row: [Fr; T],
    /// `col[0]` is unused (zero).
    col: [Fr; T],
}

struct Optimised<const T: usize> {
    /// Added to the initial state.
    initial: [Fr; T],
    /// First-half full rounds: constants added after the S-box (the last one also carries the
    /// coordinates pushed back from the partial rounds).
    first: Vec<[Fr; T]>,
    /// Matrix of the last first-half full round: `diag(1, N̂) · M` of the first partial round.
    pre_sparse: [[Fr; T]; T],
    partial: Vec<SparseRound<T>>,
    /// Second-half full rounds except the last: constants added after the S-box.
    last: Vec<[Fr; T]>,
    mds: [[Fr; T]; T],
}

impl<const T: usize> Optimised<T> {
    #[inline(always)]
    fn permute(&self, mut x: [Fr; T]) -> Fr {
        add_constants(&mut x, &self.initial);
        let n_first = self.first.len();
        for (i, c) in self.first.iter().enumerate() {
            sbox_full(&mut x);
            add_constants(&mut x, c);
            x = if i + 1 == n_first { mat_vec(&self.pre_sparse, &x) } else { mat_vec(&self.mds, &x) };
        }
        for r in &self.partial {
            x[0] = pow5(x[0]) + r.k;
            let new0 = dot(&r.row, &x);
            let s0 = x[0];
            for (xj, cj) in x.iter_mut().zip(&r.col).skip(1) {
                *xj += *cj * s0;
            }
            x[0] = new0;
        }
        for c in &self.last {
            sbox_full(&mut x);
            add_constants(&mut x, c);
            x = mat_vec(&self.mds, &x);
        }
        // Final full round: no constants after it, and only state[0] is needed.
        sbox_full(&mut x);
        dot(&self.mds[0], &x)
    }
}

impl<const T: usize> Schedule<T> {
    /// The textbook permutation (ark, S-box, MDS per round), as in the Poseidon paper.
    fn permute_reference(&self, mut x: [Fr; T]) -> Fr {
        let half = self.full_rounds / 2;
        for (r, c) in self.ark.iter().enumerate() {
            add_constants(&mut x, c);
            if r < half || r >= half + self.partial_rounds {
                sbox_full(&mut x);
            } else {
                x[0] = pow5(x[0]);
            }
            x = mat_vec(&self.mds, &x);
        }
        x[0]
    }

    fn load() -> Result<Self, ParametersError> {
        let t = u8::try_from(T).map_err(|_| ParametersError::Width(T))?;
        let p = light_poseidon::parameters::bn254_x5::get_poseidon_parameters::<Fr>(t)
            .map_err(|source| ParametersError::Missing { t: T, source })?;
        if p.width != T || p.alpha != 5 || p.full_rounds % 2 != 0 || p.full_rounds < 2 {
            return Err(ParametersError::Unexpected {
                t: T,
                width: p.width,
                alpha: p.alpha,
                full_rounds: p.full_rounds,
            });
        }
        let rounds = p.full_rounds + p.partial_rounds;
        if p.ark.len() != rounds * T || p.mds.len() != T || p.mds.iter().any(|r| r.len() != T) {
            return Err(ParametersError::Malformed { t: T });
        }
        let ark = p.ark.chunks_exact(T).map(|c| std::array::from_fn(|i| c[i])).collect();
        let mds = std::array::from_fn(|i| std::array::from_fn(|j| p.mds[i][j]));
        let mut schedule =
            Schedule { ark, mds, full_rounds: p.full_rounds, partial_rounds: p.partial_rounds, optimised: None };
        schedule.optimised = schedule.optimise();
        Ok(schedule)
    }

    /// Builds the optimised schedule; `None` if a matrix turns out to be singular.
    fn optimise(&self) -> Option<Optimised<T>> {
        let half = self.full_rounds / 2;
        let rp = self.partial_rounds;
        let rounds = self.ark.len();
        let m: Vec<Vec<Fr>> = self.mds.iter().map(|r| r.to_vec()).collect();
        let m_inv = invert(&m)?;
        let apply = |mat: &[Vec<Fr>], v: &[Fr; T]| -> [Fr; T] {
            std::array::from_fn(|i| mat[i].iter().zip(v).map(|(a, b)| *a * b).sum())
        };

        // Constants after the S-box: after[r] = M⁻¹ · ark[r + 1], nothing after the last round.
        let mut after: Vec<[Fr; T]> = (0..rounds)
            .map(|r| match self.ark.get(r + 1) {
                Some(c) => apply(&m_inv, c),
                None => [Fr::ZERO; T],
            })
            .collect();
        // Partial rounds keep only after[r][0]; the rest is moved before their S-box, i.e. after
        // the previous round's matrix: M x + v = M (x + M⁻¹ v).
        for r in (half..half + rp).rev() {
            let mut rest = after[r];
            rest[0] = Fr::ZERO;
            let pushed = apply(&m_inv, &rest);
            for (a, p) in after[r - 1].iter_mut().zip(pushed) {
                *a += p;
            }
            let keep = after[r][0];
            after[r] = [Fr::ZERO; T];
            after[r][0] = keep;
        }

        // Sparse factorisation, from the last partial round backwards.
        let mut partial_rev = Vec::with_capacity(rp);
        let mut n = m.clone();
        for r in (half..half + rp).rev() {
            let n_hat: Vec<Vec<Fr>> = n[1..].iter().map(|row| row[1..].to_vec()).collect();
            let n_hat_inv = invert(&n_hat)?;
            let mut row = [Fr::ZERO; T];
            row[0] = n[0][0];
            for j in 1..T {
                row[j] = (1..T).map(|k| n[0][k] * n_hat_inv[k - 1][j - 1]).sum();
            }
            let mut col = [Fr::ZERO; T];
            for i in 1..T {
                col[i] = n[i][0];
            }
            partial_rev.push(SparseRound { k: after[r][0], row, col });
            // Matrix of the previous round: diag(1, N̂) · M.
            let mut prev = m.clone();
            for i in 1..T {
                for j in 0..T {
                    prev[i][j] = (1..T).map(|k| n_hat[i - 1][k - 1] * m[k][j]).sum();
                }
            }
            n = prev;
        }
        partial_rev.reverse();
        let pre_sparse = std::array::from_fn(|i| std::array::from_fn(|j| n[i][j]));

        Some(Optimised {
            initial: *self.ark.first()?,
            first: after[..half].to_vec(),
            pre_sparse,
            partial: partial_rev,
            last: after[half + rp..rounds - 1].to_vec(),
            mds: self.mds,
        })
    }
}

/// Gauss–Jordan inverse of a square matrix; `None` if it is singular.
fn invert(m: &[Vec<Fr>]) -> Option<Vec<Vec<Fr>>> {
    let n = m.len();
    let mut a: Vec<Vec<Fr>> = m.to_vec();
    let mut inv: Vec<Vec<Fr>> = (0..n)
        .map(|i| {
            let mut row = vec![Fr::ZERO; n];
            row[i] = Fr::ONE;
            row
        })
        .collect();
    for col in 0..n {
        let pivot = (col..n).find(|&r| !a[r][col].is_zero())?;
        a.swap(col, pivot);
        inv.swap(col, pivot);
        let p_inv = a[col][col].inverse()?;
        for j in 0..n {
            a[col][j] *= p_inv;
            inv[col][j] *= p_inv;
        }
        for r in 0..n {
            if r != col && !a[r][col].is_zero() {
                let f = a[r][col];
                for j in 0..n {
                    let (ac, ic) = (a[col][j], inv[col][j]);
                    a[r][j] -= f * ac;
                    inv[r][j] -= f * ic;
                }
            }
        }
    }
    Some(inv)
}

/// Why light-poseidon's parameters for a width could not be used (never for the widths 2..=13
/// this module builds: the tests load every one).
#[derive(thiserror::Error, Debug)]
enum ParametersError {
    #[error("width {0} does not fit in u8")]
    Width(usize),
    #[error("light-poseidon has no parameters for t = {t}: {source}")]
    Missing {
        t: usize,
        #[source]
        source: light_poseidon::PoseidonError,
    },
    #[error(
        "unexpected light-poseidon parameters for t = {t}: width {width}, alpha {alpha}, full rounds {full_rounds}"
    )]
    Unexpected { t: usize, width: usize, alpha: u64, full_rounds: usize },
    #[error("malformed light-poseidon constants for t = {t}")]
    Malformed { t: usize },
}

/// Maps a width to its lazily built schedule (one `OnceLock` per width).
struct Widths;

trait HasSchedule<const T: usize> {
    fn schedule() -> &'static Schedule<T>;
}

macro_rules! widths {
    ($($t:literal),*) => {$(
        impl HasSchedule<$t> for Widths {
            #[inline(always)]
            fn schedule() -> &'static Schedule<$t> {
                static SCHEDULE: OnceLock<Schedule<$t>> = OnceLock::new();
                SCHEDULE.get_or_init(|| match Schedule::<$t>::load() {
                    Ok(s) => s,
                    // Not reachable from any input: light-poseidon ships well-formed circom
                    // parameters for every width 2..=13, which the tests check.
                    Err(e) => panic!("Poseidon parameters for t = {}: {e}", $t),
                })
            }
        }
    )*};
}
widths!(2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13);

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ff::UniformRand;
    use light_poseidon::{Poseidon, PoseidonHasher};
    use std::str::FromStr;

    fn light(inputs: &[Fr]) -> Fr {
        Poseidon::<Fr>::new_circom(inputs.len()).and_then(|mut p| p.hash(inputs)).expect("light-poseidon")
    }

    fn reference<const T: usize>(inputs: &[Fr]) -> Fr
    where
        Widths: HasSchedule<T>,
    {
        let mut state = [Fr::ZERO; T];
        state[1..].copy_from_slice(inputs);
        <Widths as HasSchedule<T>>::schedule().permute_reference(state)
    }

    #[test]
    fn known_value_1_2() {
        let expected =
            Fr::from_str("7853200120776062878684798364095072458815029376092732009249414926327459813530").unwrap();
        assert_eq!(hash2(Fr::from(1u64), Fr::from(2u64)), expected);
        assert_eq!(hash(&[Fr::from(1u64), Fr::from(2u64)]).unwrap(), expected);
    }

    #[test]
    fn every_width_is_optimised_and_matches_light_poseidon() {
        let mut rng = ark_std::test_rng();
        for n in 1..=MAX_INPUTS {
            for _ in 0..4 {
                let inputs: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
                assert_eq!(hash(&inputs).unwrap(), light(&inputs), "width {}", n + 1);
            }
        }
        macro_rules! check_opt {
            ($($t:literal),*) => {$(
                assert!(<Widths as HasSchedule<$t>>::schedule().optimised.is_some(), "t = {}", $t);
            )*};
        }
        check_opt!(2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13);
    }

    #[test]
    fn reference_schedule_matches_light_poseidon() {
        let mut rng = ark_std::test_rng();
        let a: Vec<Fr> = (0..2).map(|_| Fr::rand(&mut rng)).collect();
        assert_eq!(reference::<3>(&a), light(&a));
        let b: Vec<Fr> = (0..4).map(|_| Fr::rand(&mut rng)).collect();
        assert_eq!(reference::<5>(&b), light(&b));
        let c: Vec<Fr> = (0..12).map(|_| Fr::rand(&mut rng)).collect();
        assert_eq!(reference::<13>(&c), light(&c));
    }

    #[test]
    fn fixed_arity_helpers_agree_with_hash() {
        let mut rng = ark_std::test_rng();
        let x: [Fr; 5] = std::array::from_fn(|_| Fr::rand(&mut rng));
        assert_eq!(hash2(x[0], x[1]), hash(&x[..2]).unwrap());
        assert_eq!(hash4(&[x[0], x[1], x[2], x[3]]), hash(&x[..4]).unwrap());
        assert_eq!(hash5(&x), hash(&x).unwrap());
    }

    #[test]
    fn arity_errors() {
        assert_eq!(hash(&[]), Err(CryptoError::PoseidonArity { got: 0 }));
        assert_eq!(hash(&[Fr::ZERO; 13]), Err(CryptoError::PoseidonArity { got: 13 }));
    }

    #[test]
    fn bytes_to_fields_chunks_big_endian() {
        assert!(bytes_to_fields(&[]).is_empty());
        assert_eq!(bytes_to_fields(&[1, 2]), vec![Fr::from(0x0102u64)]);
        let mut bytes = vec![0u8; 31];
        bytes[30] = 7;
        bytes.extend_from_slice(&[1, 0]);
        assert_eq!(bytes_to_fields(&bytes), vec![Fr::from(7u64), Fr::from(256u64)]);
        let max = [0xffu8; 31];
        let f = bytes_to_fields(&max);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0], Fr::from(num_bigint::BigUint::from_bytes_be(&max)));
    }

    #[test]
    fn hash_bytes_limits() {
        assert_eq!(hash_bytes(&[]), Err(CryptoError::EmptyMessage));
        assert!(hash_bytes(&[0u8; MAX_MESSAGE_BYTES]).is_ok());
        assert_eq!(hash_bytes(&[0u8; MAX_MESSAGE_BYTES + 1]), Err(CryptoError::MessageTooLong { len: 373, max: 372 }));
        let msg = b"hello zklink";
        assert_eq!(hash_bytes(msg).unwrap(), light(&bytes_to_fields(msg)));
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        fn fr() -> impl Strategy<Value = Fr> {
            any::<[u8; 32]>().prop_map(|b| Fr::from_le_bytes_mod_order(&b))
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(64))]
            #[test]
            fn matches_light_poseidon(inputs in proptest::collection::vec(fr(), 1..=MAX_INPUTS)) {
                prop_assert_eq!(hash(&inputs).unwrap(), light(&inputs));
            }

            #[test]
            fn hash4_matches_light_poseidon(x in proptest::array::uniform4(fr())) {
                prop_assert_eq!(hash4(&x), light(&x));
            }

            #[test]
            fn hash_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
                let r = hash_bytes(&bytes);
                prop_assert_eq!(r.is_ok(), !bytes.is_empty() && bytes.len() <= MAX_MESSAGE_BYTES);
            }
        }
    }
}
