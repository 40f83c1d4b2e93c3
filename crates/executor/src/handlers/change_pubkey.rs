use std::collections::HashSet;

use zklink_crypto::l1::{recover_change_pubkey_signer, L1Domain};
use zklink_types::op::ChangePubKeyOp;
use zklink_types::{
    Address, ChainId, ChangePubKey, ChangePubKeyAuth, Network, Nonce, Op, PubKeyHash, SignatureFault, TxError,
    FEE_ACCOUNT_ID, GLOBAL_ASSET_ACCOUNT_ID,
};

use super::{check_nonce, header};
use crate::plan::Plan;

/// (pubkey hash, nonce) pairs owners registered on a chain's contract, as reported by the L1 watcher.
#[derive(Clone, Debug, Default)]
pub struct AuthFacts(HashSet<(ChainId, Address, PubKeyHash, Nonce)>);

impl AuthFacts {
    /// Records that `owner` registered `(pkh, nonce)` on `chain`'s contract.
    pub fn insert(&mut self, chain: ChainId, owner: Address, pkh: PubKeyHash, nonce: Nonce) {
        self.0.insert((chain, owner, pkh, nonce));
    }
    /// Whether `owner` registered `(pkh, nonce)` on `chain`'s contract: what an `Onchain`
    /// ChangePubKey needs.
    pub fn contains(&self, chain: ChainId, owner: Address, pkh: PubKeyHash, nonce: Nonce) -> bool {
        self.0.contains(&(chain, owner, pkh, nonce))
    }
}

/// Sets the account's key. `signer` is the key that signed the tx: it must be the new key.
/// The L1 owner authorises the change by an EIP-712 signature or an on-chain fact.
pub fn change_pubkey(
    plan: &mut Plan<'_>,
    network: &Network,
    facts: &AuthFacts,
    t: &ChangePubKey,
    signer: &PubKeyHash,
) -> Result<Op, TxError> {
    t.validate(&network.preset)?;
    let chain = network.check_chain(t.chain_id)?;
    if t.account_id == GLOBAL_ASSET_ACCOUNT_ID {
        return Err(TxError::ReservedAccount {
            account: t.account_id,
            action: "set a key",
            reason: "the global asset account is controlled by nobody",
        });
    }
    let account = header(plan.state(), t.account_id)?;
    check_nonce(t.account_id, account.nonce, t.nonce)?;
    if *signer != t.new_pk_hash {
        return Err(TxError::WrongSigner {
            account: t.account_id,
            expected: t.new_pk_hash.to_string(),
            got: signer.to_string(),
        });
    }
    match &t.auth {
        ChangePubKeyAuth::EthEcdsa { signature } => {
            let domain = L1Domain { l1_chain_id: chain.l1_chain_id, verifying_contract: chain.contract };
            let recovered = recover_change_pubkey_signer(&domain, &t.new_pk_hash, t.nonce.0, t.account_id.0, signature)
                .map_err(|source| TxError::BadL1Auth(SignatureFault::Crypto { what: "EIP-712 signature", source }))?;
            if recovered != account.address {
                return Err(TxError::BadL1Auth(SignatureFault::NotTheOwner {
                    account: t.account_id,
                    signer: recovered,
                    owner: account.address,
                }));
            }
        }
        ChangePubKeyAuth::Onchain => {
            if !facts.contains(t.chain_id, account.address, t.new_pk_hash, t.nonce) {
                return Err(TxError::MissingAuthFact { account: t.account_id, nonce: t.nonce, chain: t.chain_id });
            }
        }
    }
    plan.debit(t.account_id, t.sub_account_id, t.fee_token, t.fee)?;
    plan.set_pubkey_hash(t.account_id, account.pubkey_hash, t.new_pk_hash);
    plan.bump_nonce(t.account_id, account.nonce)?;
    plan.credit(FEE_ACCOUNT_ID, Default::default(), t.fee_token, t.fee)?;
    Ok(Op::ChangePubKey(ChangePubKeyOp {
        chain_id: t.chain_id,
        account_id: t.account_id,
        sub_account_id: t.sub_account_id,
        new_pk_hash: t.new_pk_hash,
        owner: account.address,
        nonce: t.nonce,
        fee_token: t.fee_token,
        fee: t.fee,
    }))
}
