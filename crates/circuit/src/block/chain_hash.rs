//! The per-chain rolling hashes `H_c = sha256(H_c ‖ op pubdata)` (docs/protocol.md §9), two
//! SHA-256 compressions per on-chain period of the preset.
//!
//! On-chain ops start only at chunks `j` with `j mod P = 0` (P = the preset's
//! `onchain_period`, ≥ 2). An on-chain op is 2 or 3 chunks, so `H_c ‖ op` (80 or 104 bytes) is
//! exactly two SHA-256 blocks: the first (`H_c` ‖ the op's first 32 bytes) is compressed at
//! chunk `j`, the second (the op's remaining 16 or 40 bytes and the padding) at `j + 1`, and the
//! result replaces the hash of the op's chain. The other `P − 2` chunks of the period have no
//! compression at all: that is what the alignment buys.

use ark_r1cs_std::boolean::Boolean;
use ark_r1cs_std::eq::EqGadget;
use ark_r1cs_std::fields::fp::FpVar;
use ark_r1cs_std::select::CondSelectGadget;
use zklink_crypto::Fr;

use super::bytes::const_bits;
use super::num::{self, exclusive_or, R};
use super::Ctx;
use crate::gadgets::sha256;

fn select_bits(cond: &Boolean<Fr>, a: &[Boolean<Fr>], b: &[Boolean<Fr>]) -> R<Vec<Boolean<Fr>>> {
    a.iter().zip(b).map(|(x, y)| Boolean::conditionally_select(cond, x, y)).collect()
}

/// The second SHA-256 block of `H ‖ op` for an op that started at the previous chunk, whose
/// chunks from its second on are `rest` (2 chunks of bits; the second is unused for 2-chunk ops).
fn second_block(rest0: &[Boolean<Fr>], rest1: &[Boolean<Fr>], len3: &Boolean<Fr>) -> R<Vec<Boolean<Fr>>> {
    let pad = |msg_bytes: u64| {
        let data = (msg_bytes - 64) as usize;
        let mut b = vec![0u8; 64 - data];
        b[0] = 0x80;
        b[56 - data..].copy_from_slice(&(msg_bytes * 8).to_be_bytes());
        b
    };
    // Both variants start with the op's bytes 32..48 (the tail of its second chunk).
    let mut block = rest0[64..].to_vec();
    let two = const_bits(&pad(80));
    let mut three = rest1.to_vec();
    three.extend(const_bits(&pad(104)));
    block.extend(select_bits(len3, &three, &two)?);
    Ok(block)
}

/// H_1 … H_n as bits after all chunks.
pub fn chain_hashes(ctx: &Ctx) -> R<Vec<Vec<Boolean<Fr>>>> {
    let n = ctx.chain_count as usize;
    let period = ctx.preset.onchain_period;
    let zero = vec![Boolean::FALSE; 256];
    let mut hashes = vec![zero.clone(); n];
    let chunk_or_zero = |i: usize| ctx.chunks.get(i).cloned().unwrap_or_else(|| vec![Boolean::FALSE; 192]);
    for (i, onchain) in ctx.onchain.iter().enumerate() {
        if i % period != 0 {
            // No on-chain op can start here (its start flags are constant false).
            debug_assert!(onchain.0.is_empty(), "an on-chain op registered off its period");
            continue;
        }
        let started = exclusive_or(&onchain.0)?;
        let len3 = exclusive_or(&onchain.1)?;
        let chain = num::be_to_fp(&ctx.chunks[i][8..16])?;
        let is_chain = (1..=n).map(|k| chain.is_eq(&num::c(k as u128))).collect::<R<Vec<_>>>()?;
        // An on-chain op names a connected chain.
        num::require_if(&started, &exclusive_or_checked(&is_chain)?)?;
        let mut block1 = zero.clone();
        for (k, sel) in is_chain.iter().enumerate() {
            for (acc, bit) in block1.iter_mut().zip(&hashes[k]) {
                *acc = &*acc | &(sel & bit);
            }
        }
        block1.extend(ctx.chunks[i].iter().cloned());
        block1.extend(chunk_or_zero(i + 1)[..64].iter().cloned());
        let mid = sha256::compress(&sha256::iv(), &block1)?;
        let block2 = second_block(&chunk_or_zero(i + 1), &chunk_or_zero(i + 2), &len3)?;
        let out = sha256::compress(&mid, &block2)?;
        for (h, sel) in hashes.iter_mut().zip(&is_chain) {
            *h = select_bits(&(&started & sel), &out, h)?;
        }
    }
    Ok(hashes)
}

/// Exactly one of the (mutually exclusive by construction) equalities holds.
fn exclusive_or_checked(is_chain: &[Boolean<Fr>]) -> R<Boolean<Fr>> {
    // The chain byte equals at most one k, so the sum of the equalities is 0 or 1.
    let sum = is_chain.iter().fold(FpVar::Constant(Fr::from(0u64)), |acc, b| acc + FpVar::from(b.clone()));
    sum.is_eq(&FpVar::Constant(Fr::from(1u64)))
}
