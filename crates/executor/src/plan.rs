//! A plan: the state updates one tx will make, computed against a read overlay so that later
//! reads in the same tx see earlier writes. Nothing touches the state until the whole tx has
//! been checked; then the plan is applied in order.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use zklink_state::{OrderSlot, State};
use zklink_types::{AccountId, Address, Nonce, PubKeyHash, SlotId, SubAccountId, TokenId, TxError};

/// One leaf-level change, in the order the circuit replays them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum StateUpdate {
    CreateAccount {
        account: AccountId,
        address: Address,
    },
    Balance {
        account: AccountId,
        sub: SubAccountId,
        token: TokenId,
        #[serde(with = "zklink_types::serde_str")]
        old: u128,
        #[serde(with = "zklink_types::serde_str")]
        new: u128,
    },
    OrderSlot {
        account: AccountId,
        sub: SubAccountId,
        slot: SlotId,
        old_nonce: u32,
        #[serde(with = "zklink_types::serde_str")]
        old_residue: u128,
        new_nonce: u32,
        #[serde(with = "zklink_types::serde_str")]
        new_residue: u128,
    },
    Nonce {
        account: AccountId,
        old: Nonce,
        new: Nonce,
    },
    PubKeyHash {
        account: AccountId,
        old: PubKeyHash,
        new: PubKeyHash,
    },
}

impl StateUpdate {
    pub fn account(&self) -> AccountId {
        match self {
            StateUpdate::CreateAccount { account, .. }
            | StateUpdate::Balance { account, .. }
            | StateUpdate::OrderSlot { account, .. }
            | StateUpdate::Nonce { account, .. }
            | StateUpdate::PubKeyHash { account, .. } => *account,
        }
    }

    /// Writes the update into the state.
    pub fn apply(&self, state: &mut State) -> Result<(), TxError> {
        match self {
            StateUpdate::CreateAccount { account, address } => {
                let id = state.create_account(*address)?;
                debug_assert_eq!(id, *account, "planned account id must be the next free id");
                Ok(())
            }
            StateUpdate::Balance { account, sub, token, new, .. } => state.set_balance(*account, *sub, *token, *new),
            StateUpdate::OrderSlot { account, sub, slot, new_nonce, new_residue, .. } => state.set_order_slot(
                *account,
                *sub,
                *slot,
                OrderSlot { nonce: zklink_types::OrderNonce(*new_nonce), residue: *new_residue },
            ),
            StateUpdate::Nonce { account, new, .. } => state.set_nonce(*account, *new),
            StateUpdate::PubKeyHash { account, new, .. } => state.set_pubkey_hash(*account, *new),
        }
    }
}

pub struct Plan<'a> {
    state: &'a State,
    pub updates: Vec<StateUpdate>,
    balances: HashMap<(AccountId, SubAccountId, TokenId), u128>,
    new_accounts: Vec<Address>,
}

impl<'a> Plan<'a> {
    pub fn new(state: &'a State) -> Self {
        Self { state, updates: Vec::with_capacity(8), balances: HashMap::new(), new_accounts: Vec::new() }
    }

    pub fn state(&self) -> &State {
        self.state
    }

    pub fn balance(&self, account: AccountId, sub: SubAccountId, token: TokenId) -> u128 {
        self.balances.get(&(account, sub, token)).copied().unwrap_or_else(|| self.state.balance(account, sub, token))
    }

    fn set_balance(&mut self, account: AccountId, sub: SubAccountId, token: TokenId, new: u128) {
        let old = self.balance(account, sub, token);
        self.balances.insert((account, sub, token), new);
        self.updates.push(StateUpdate::Balance { account, sub, token, old, new });
    }

    pub fn debit(
        &mut self,
        account: AccountId,
        sub: SubAccountId,
        token: TokenId,
        amount: u128,
    ) -> Result<(), TxError> {
        let available = self.balance(account, sub, token);
        let new = available.checked_sub(amount).ok_or(TxError::InsufficientBalance {
            account,
            sub,
            token,
            available,
            required: amount,
        })?;
        self.set_balance(account, sub, token, new);
        Ok(())
    }

    pub fn credit(
        &mut self,
        account: AccountId,
        sub: SubAccountId,
        token: TokenId,
        amount: u128,
    ) -> Result<(), TxError> {
        let new = self.balance(account, sub, token).checked_add(amount).ok_or(TxError::BalanceOverflow {
            account,
            sub,
            token,
        })?;
        self.set_balance(account, sub, token, new);
        Ok(())
    }

    /// Plans a new account for `address` and returns its id.
    pub fn create_account(&mut self, address: Address) -> Result<AccountId, TxError> {
        let id = AccountId(self.state.next_account_id().0 + self.new_accounts.len() as u32);
        self.state
            .preset()
            .check_account(id)
            .map_err(|_| TxError::AccountTreeFull { capacity: self.state.preset().max_account_id() as u64 + 1 })?;
        self.new_accounts.push(address);
        self.updates.push(StateUpdate::CreateAccount { account: id, address });
        Ok(id)
    }

    pub fn bump_nonce(&mut self, account: AccountId, old: Nonce) -> Result<(), TxError> {
        let new = Nonce(old.0.checked_add(1).ok_or(TxError::NonceOverflow(account))?);
        self.updates.push(StateUpdate::Nonce { account, old, new });
        Ok(())
    }

    pub fn set_pubkey_hash(&mut self, account: AccountId, old: PubKeyHash, new: PubKeyHash) {
        self.updates.push(StateUpdate::PubKeyHash { account, old, new });
    }

    pub fn set_order_slot(
        &mut self,
        account: AccountId,
        sub: SubAccountId,
        slot: SlotId,
        old: OrderSlot,
        new: OrderSlot,
    ) {
        self.updates.push(StateUpdate::OrderSlot {
            account,
            sub,
            slot,
            old_nonce: old.nonce.0,
            old_residue: old.residue,
            new_nonce: new.nonce.0,
            new_residue: new.residue,
        });
    }
}
