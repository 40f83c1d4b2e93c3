//! Credit slots (docs/protocol.md §12): fees are not credited by a state update per op. Every
//! op registers the fees it credits as *requests* `(gate, key, amount)` — the key names a
//! balance leaf, `account · 2^64 + balance index` — and the block has K credit slots, before
//! every op slot, each adding to one balance leaf the sum of the requests routed to it.
//!
//! Routing is a witness: `sel[r][k]` says request r goes to slot k. The constraints:
//! * `sel[r][k] ⇒ key_r = key_k` (a request goes only to a slot of its own leaf);
//! * `u_r = gate_r − Σ_k sel[r][k]` is 0 or 1 (a request of an op that did not happen goes
//!   nowhere; one that did goes to at most one slot), and `u_r · amount_r = 0` (a request that
//!   goes nowhere credits nothing);
//! * slot k adds exactly `Σ_r sel[r][k] · amount_r` to its leaf's balance and changes nothing else.
//!
//! So the fees credited equal the fees the ops pay, leaf by leaf. Crediting before the ops is
//! sound because a block is atomic: only its end state is committed. Two slots may name the same
//! leaf (each adds its own sum); an unused slot adds 0 to whatever leaf it names.

use ark_r1cs_std::alloc::AllocVar;
use ark_r1cs_std::boolean::Boolean;
use ark_r1cs_std::eq::EqGadget;
use ark_r1cs_std::fields::fp::FpVar;
use ark_r1cs_std::fields::FieldVar;
use ark_r1cs_std::GR1CSVar;
use ark_relations::gr1cs::ConstraintSystemRef;
use zklink_crypto::Fr;

use super::num::{eq_if, pow2, R};
use super::ops::Change;
use super::slot::SlotVar;

/// One fee an op credits when its gate holds.
pub struct Request {
    /// The op's start flag.
    pub gate: Boolean<Fr>,
    /// `account · 2^64 + balance index` of the leaf credited.
    pub key: FpVar<Fr>,
    /// The amount (0 credits nothing).
    pub amount: FpVar<Fr>,
}

/// The key of a balance leaf: `account · 2^64 + index`.
pub fn key(account: &FpVar<Fr>, index: &FpVar<Fr>) -> FpVar<Fr> {
    account * pow2(64) + index
}

/// The routing the witness takes: the first slot with the request's key, if its op happened.
/// `None` in setup mode (no values).
fn route(req: &Request, slot_keys: &[FpVar<Fr>]) -> Option<usize> {
    if !req.gate.value().ok()? {
        return None;
    }
    let key = req.key.value().ok()?;
    slot_keys.iter().position(|k| k.value().ok() == Some(key))
}

/// Enforces that the credit `slots` add exactly the fees of `requests` (see the module docs).
pub fn enforce(cs: &ConstraintSystemRef<Fr>, slots: &[SlotVar], requests: &[Request]) -> R<()> {
    let slot_keys: Vec<FpVar<Fr>> = slots.iter().map(|s| key(&s.account, &s.sub_index)).collect();
    let mut sums = vec![FpVar::<Fr>::zero(); slots.len()];
    for req in requests {
        let to = route(req, &slot_keys);
        let mut routed = FpVar::<Fr>::zero();
        for (k, slot_key) in slot_keys.iter().enumerate() {
            let sel = Boolean::new_witness(cs.clone(), || Ok(to == Some(k)))?;
            eq_if(&sel, &req.key, slot_key)?;
            routed += FpVar::from(sel.clone());
            sums[k] += &req.amount * FpVar::from(sel);
        }
        let unrouted = FpVar::from(req.gate.clone()) - routed;
        // 0 or 1: u · (1 − u) = 0.
        (&unrouted * (FpVar::one() - &unrouted)).enforce_equal(&FpVar::zero())?;
        (&unrouted * &req.amount).enforce_equal(&FpVar::zero())?;
    }
    for (s, sum) in slots.iter().zip(sums) {
        s.is_order.enforce_equal(&Boolean::FALSE)?;
        let change = Change::balance(s.account.clone(), s.sub_index.clone(), &s.old_lo + sum);
        change.enforce(&Boolean::TRUE, s)?;
    }
    Ok(())
}
