//! The exit circuit (docs/protocol.md §11): in exodus mode a user proves their balance at the
//! last executed state root, and chain `c` pays `⌊balance · R(c) / Σ_c' R(c')⌋`, its pro-rata
//! share of the reserves that back the token.
//!
//! # One circuit shape per network
//!
//! Groth16 keys depend on the constraint system's shape only, so a claim for a normal token
//! (`t ≥ 17`, reserves `R(c', t)`) and one for USD (`t = 1`, reserves `R(c', x)` for the 15
//! reserve ids `x = 2..=16`) must synthesise the same constraints. For every chain `c' = 1..=n`
//! the circuit proves, inside account 1's balance tree:
//!
//! * the leaf `R(c', r)` at the claim's reserve token `r` (a path with variable token bits and
//!   constant chain bits): the numerator for `c' = c`, and the summand of a normal token's total;
//! * the USD block: the 16 leaves of tokens 0..=15 hashed into their level-2 node `N0`
//!   (5 Poseidon nodes), and the leaf of token 16 up to the balance root with `N0` as its
//!   level-2 sibling — all 15 reserve ids with one path instead of 15, since `tb ≥ 6` puts
//!   tokens 0..=63 in one aligned subtree.
//!
//! The token kind then selects which sum is the total. Per chain this costs `2·B + 5` Poseidon
//! nodes (`B` = balance levels) and 16 128-bit range checks, against `16·B` nodes for 16
//! separate reserve paths; at `main` (`B = 11`) that is 27 nodes instead of 176.
//!
//! # LP shares
//!
//! A claim on an LP token (docs/protocol.md §11) first proves the pool behind it — the registry
//! leaf names it, its address names its tokens and LP token, its leaves give the reserve `R_u`
//! of the claimed token and the share supply `S` (both below 2^112) — and then pays pro rata
//! `b' = ⌊b·R_u/S⌋` instead of `b`, checked as `b' · S + rem = b · R_u` with `0 ≤ rem < S`. The
//! same constraints run, gated off, for every other claim (the shape is the same).
//!
//! Measured with 3 chains: 80,407 constraints at `dev` and 110,034 at `main` (74,716 and 95,125
//! before LP claims). Before LP claims, at `dev`: claim
//! fields and token rule 345, the owner's leaf and paths 2,600, account 1's leaf and path 1,210,
//! reserves 5,942 per chain, division 687, the root's bytes 640, SHA-256 of the 78-byte claim
//! (2 compressions) 51,407.
//!
//! # Exact floor division
//!
//! `b · R` reaches 2^256 and would wrap modulo p. With `b = b_hi·2^64 + b_lo` (the bits of `b`
//! give both halves) the division is done as two steps of long division by `T'`
//! (`T' = T`, or 1 when `T = 0` so that the share is 0):
//!
//! ```text
//! b_hi·R           = q1·T' + r1      q1 < 2^64,  0 ≤ r1 < T'
//! r1·2^64 + b_lo·R = q2·T' + r2      q2 < 2^65,  0 ≤ r2 < T'
//! amount           = q1·2^64 + q2
//! ```
//!
//! Substituting gives `b·R = amount·T' + r2` with `0 ≤ r2 < T'`, i.e. `amount = ⌊b·R/T'⌋`. Every
//! term is below 2^203 ≪ p, so each field equation is the integer equation. Bounds:
//! `R, b < 2^128` and every reserve summand `< 2^128` (bit decompositions), so
//! `T < 465·2^128 < 2^137`; `r < T'` is `T' − 1 − r ∈ [0, 2^137)` with `r ∈ [0, 2^137)`. An honest
//! prover meets `q1 < 2^64` and `q2 < 2^65` because `R ≤ T'` (R is one of T's summands).

mod circuit;
mod witness;

pub use circuit::ExitCircuit;
pub use witness::*;

/// Bytes of the claim encoding the public input hashes.
pub const CLAIM_BYTES: usize = 32 + 1 + 4 + 1 + 20 + 2 + 2 + 16;
/// Bound on a reserve total: at most 15 reserve ids × 31 chains of u128 values < 2^137.
pub const TOTAL_BITS: usize = 137;
/// Token ids 0..=15 of a chain's reserves form one level-2 subtree of account 1's balance tree.
const LOW_TOKENS: usize = 16;
/// The last USD reserve id, just outside that subtree.
const TOKEN_16: u16 = 16;
/// Level of the node covering tokens 0..=15 (4-ary: 16 = 4^2 leaves).
const LOW_BLOCK_LEVEL: usize = 2;
