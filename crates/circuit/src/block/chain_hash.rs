//! The per-chain rolling hashes `H_c = sha256(H_c ‖ op pubdata)` (docs/protocol.md §9), one
//! SHA-256 compression per chunk.
//!
//! An on-chain op is 2 or 3 chunks, so `H_c ‖ op` (80 or 104 bytes) is exactly two SHA-256
//! blocks: the first (`H_c` ‖ the op's first 32 bytes) is compressed at the op's first chunk,
//! the second (the op's remaining 16 or 40 bytes and the padding) at its second chunk. No chunk
//! needs both, so each chunk runs one compression whose inputs are selected by what starts
//! or continues there; the result replaces the hash of the op's chain.

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

/// An on-chain op that started at a chunk: its gate, one-hot chain selector, 3-chunk flag.
type Started = (Boolean<Fr>, Vec<Boolean<Fr>>, Boolean<Fr>);

/// H_1 … H_n as bits after all chunks.
pub fn chain_hashes(ctx: &Ctx) -> R<Vec<Vec<Boolean<Fr>>>> {
    let n = ctx.chain_count as usize;
    let zero = vec![Boolean::FALSE; 256];
    let mut hashes = vec![zero.clone(); n];
    let chunk_or_zero = |i: usize| ctx.chunks.get(i).cloned().unwrap_or_else(|| vec![Boolean::FALSE; 192]);
    let mut carried = zero.clone();
    // Whether an on-chain op started at the previous chunk, its chain selector and length.
    let mut prev: Option<Started> = None;
    for i in 0..ctx.chunk_count() {
        let first = exclusive_or(&ctx.onchain[i].0)?;
        let len3 = exclusive_or(&ctx.onchain[i].1)?;
        let chain = num::be_to_fp(&ctx.chunks[i][8..16])?;
        let is_chain = (1..=n).map(|k| chain.is_eq(&num::c(k as u128))).collect::<R<Vec<_>>>()?;
        // An on-chain op names a connected chain.
        num::require_if(&first, &exclusive_or_checked(&is_chain)?)?;
        let mut h_sel = zero.clone();
        for (k, sel) in is_chain.iter().enumerate() {
            for (acc, bit) in h_sel.iter_mut().zip(&hashes[k]) {
                *acc = &*acc | &(sel & bit);
            }
        }
        let mut block1 = h_sel;
        block1.extend(ctx.chunks[i].iter().cloned());
        block1.extend(chunk_or_zero(i + 1)[..64].iter().cloned());
        let (second, block2) = match &prev {
            Some((g, _, l3)) => (g.clone(), second_block(&ctx.chunks[i], &chunk_or_zero(i + 1), l3)?),
            None => (Boolean::FALSE, vec![Boolean::FALSE; 512]),
        };
        let state = select_bits(&first, &sha256::iv(), &carried)?;
        let block = select_bits(&first, &block1, &block2)?;
        let out = sha256::compress(&state, &block)?;
        if let Some((_, prev_is_chain, _)) = &prev {
            for (k, h) in hashes.iter_mut().enumerate() {
                let update = &second & &prev_is_chain[k];
                *h = select_bits(&update, &out, h)?;
            }
        }
        carried = out;
        prev = Some((first, is_chain, len3));
    }
    Ok(hashes)
}

/// Exactly one of the (mutually exclusive by construction) equalities holds.
fn exclusive_or_checked(is_chain: &[Boolean<Fr>]) -> R<Boolean<Fr>> {
    // The chain byte equals at most one k, so the sum of the equalities is 0 or 1.
    let sum = is_chain.iter().fold(FpVar::Constant(Fr::from(0u64)), |acc, b| acc + FpVar::from(b.clone()));
    sum.is_eq(&FpVar::Constant(Fr::from(1u64)))
}
