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
    /// A new account at the next free id.
    CreateAccount {
        /// The id it gets.
        account: AccountId,
        /// Its L1 owner.
        address: Address,
    },
    /// A balance leaf changes.
    Balance {
        /// The account.
        account: AccountId,
        /// The sub-account.
        sub: SubAccountId,
        /// The token.
        token: TokenId,
        /// Balance before, in L2 units.
        #[serde(with = "zklink_types::serde_str")]
        old: u128,
        /// Balance after, in L2 units.
        #[serde(with = "zklink_types::serde_str")]
        new: u128,
    },
    /// An order-slot leaf changes.
    OrderSlot {
        /// The order's owner.
        account: AccountId,
        /// The sub-account.
        sub: SubAccountId,
        /// The slot.
        slot: SlotId,
        /// The slot's order nonce before.
        old_nonce: u32,
        /// The slot's open base amount before, in L2 units.
        #[serde(with = "zklink_types::serde_str")]
        old_residue: u128,
        /// The slot's order nonce after.
        new_nonce: u32,
        /// The slot's open base amount after, in L2 units.
        #[serde(with = "zklink_types::serde_str")]
        new_residue: u128,
    },
    /// The account nonce is incremented.
    Nonce {
        /// The account.
        account: AccountId,
        /// Nonce before.
        old: Nonce,
        /// Nonce after (`old + 1`).
        new: Nonce,
    },
    /// The account's L2 key is set (ChangePubKey).
    PubKeyHash {
        /// The account.
        account: AccountId,
        /// Key hash before (zero if none).
        old: PubKeyHash,
        /// Key hash after.
        new: PubKeyHash,
    },
}

impl StateUpdate {
    /// The account the update touches.
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

/// The checked updates of one tx, not yet applied, over a read-only state. Handlers build it;
/// the executor applies [`Plan::updates`] only if the whole tx passed.
pub struct Plan<'a> {
    state: &'a State,
    /// The updates in order; applying them in this order gives the tx's new state.
    pub updates: Vec<StateUpdate>,
    balances: HashMap<(AccountId, SubAccountId, TokenId), u128>,
    new_accounts: Vec<Address>,
}

impl<'a> Plan<'a> {
    /// An empty plan over `state`.
    pub fn new(state: &'a State) -> Self {
        Self { state, updates: Vec::with_capacity(8), balances: HashMap::new(), new_accounts: Vec::new() }
    }

    /// The state as before the tx (planned writes are not visible here; use [`Plan::balance`]).
    pub fn state(&self) -> &State {
        self.state
    }

    /// A balance as the plan leaves it so far (planned debits and credits included), in L2 units.
    pub fn balance(&self, account: AccountId, sub: SubAccountId, token: TokenId) -> u128 {
        self.balances.get(&(account, sub, token)).copied().unwrap_or_else(|| self.state.balance(account, sub, token))
    }

    fn set_balance(&mut self, account: AccountId, sub: SubAccountId, token: TokenId, new: u128) {
        let old = self.balance(account, sub, token);
        self.balances.insert((account, sub, token), new);
        self.updates.push(StateUpdate::Balance { account, sub, token, old, new });
    }

    /// Plans `balance −= amount`; [`TxError::InsufficientBalance`] if the balance is lower.
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

    /// Plans `balance += amount`; [`TxError::BalanceOverflow`] if it would exceed u128.
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

    /// Plans the account nonce `old → old + 1`; [`TxError::NonceOverflow`] at `2^32 − 1`.
    pub fn bump_nonce(&mut self, account: AccountId, old: Nonce) -> Result<(), TxError> {
        let new = Nonce(old.0.checked_add(1).ok_or(TxError::NonceOverflow(account))?);
        self.updates.push(StateUpdate::Nonce { account, old, new });
        Ok(())
    }

    /// Plans the account's key hash `old → new`.
    pub fn set_pubkey_hash(&mut self, account: AccountId, old: PubKeyHash, new: PubKeyHash) {
        self.updates.push(StateUpdate::PubKeyHash { account, old, new });
    }

    /// Plans an order slot `old → new`.
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
