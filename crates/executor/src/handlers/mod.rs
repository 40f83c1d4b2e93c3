//! One module per transaction kind. Each handler reads the state, checks every rule, and
//! returns the op and a plan of updates; it never writes.

mod add_liquidity;
mod cancel_order;
mod change_pubkey;
mod create_pool;
mod deposit;
mod forced_exit;
mod full_exit;
mod order_matching;
pub(crate) mod pool;
mod remove_liquidity;
mod swap;
mod transfer;
mod withdraw;

pub use add_liquidity::add_liquidity;

pub use cancel_order::cancel_order;
pub(crate) use cancel_order::cancelled_slot;
pub use change_pubkey::{change_pubkey, AuthFacts};
pub use create_pool::create_pool;
pub use deposit::deposit;
pub use forced_exit::forced_exit;
pub use full_exit::full_exit;
pub use order_matching::order_matching;
pub use remove_liquidity::remove_liquidity;
pub use swap::swap;
pub use transfer::transfer;
pub use withdraw::withdraw;

use zklink_state::{Account, State};
use zklink_types::{
    AccountId, Address, ChainId, Network, Nonce, PubKeyHash, TokenId, TxError, GLOBAL_ASSET_ACCOUNT_ID,
};

/// [`TxError::ReservedAddress`] if `address` is reserved for pools (its first 8 bytes are `ff`):
/// no transfer, deposit or forced exit may name it.
pub(crate) fn check_not_reserved(address: &Address) -> Result<(), TxError> {
    if zklink_types::pool::is_reserved_address(address) {
        return Err(TxError::ReservedAddress(*address));
    }
    Ok(())
}

/// An existing account that is allowed to sign: not the global asset account, has a key, and
/// the key is `signer`'s.
pub(crate) fn signing_account(state: &State, id: AccountId, signer: &PubKeyHash) -> Result<Header, TxError> {
    if id == GLOBAL_ASSET_ACCOUNT_ID {
        return Err(TxError::ReservedAccount {
            account: id,
            action: "sign transactions",
            reason: "it is the global asset account",
        });
    }
    let account = header(state, id)?;
    if account.pubkey_hash.is_zero() {
        return Err(TxError::NoPubKey(id));
    }
    if account.pubkey_hash != *signer {
        return Err(TxError::WrongSigner {
            account: id,
            expected: account.pubkey_hash.to_string(),
            got: signer.to_string(),
        });
    }
    Ok(account)
}

pub(crate) fn check_nonce(id: AccountId, account_nonce: Nonce, tx_nonce: Nonce) -> Result<(), TxError> {
    if account_nonce != tx_nonce {
        return Err(TxError::NonceMismatch { account: id, expected: account_nonce, got: tx_nonce });
    }
    Ok(())
}

/// 10^(18 − L1 decimals): L2 amounts leaving through `chain` must be multiples of this.
pub(crate) fn l1_unit(network: &Network, token: TokenId, chain: ChainId) -> Result<u128, TxError> {
    Ok(unit_of(network.token_on_chain(token, chain)?.decimals))
}

fn unit_of(decimals: u8) -> u128 {
    10u128.pow(18u32.saturating_sub(decimals as u32))
}

pub(crate) fn check_l1_precision(
    network: &Network,
    token: TokenId,
    chain: ChainId,
    amount: u128,
) -> Result<(), TxError> {
    let decimals = network.token_on_chain(token, chain)?.decimals;
    let unit = unit_of(decimals);
    if !amount.is_multiple_of(unit) {
        return Err(TxError::AmountBelowL1Precision { amount, decimals, chain, unit });
    }
    Ok(())
}

/// The account fields handlers read, copied out so plans can borrow the state freely.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Header {
    pub address: Address,
    pub pubkey_hash: PubKeyHash,
    pub nonce: Nonce,
}

pub(crate) fn header(state: &State, id: AccountId) -> Result<Header, TxError> {
    let a: &Account = state.account(id).ok_or(TxError::AccountNotFound(id))?;
    Ok(Header { address: a.address, pubkey_hash: a.pubkey_hash, nonce: a.nonce })
}
