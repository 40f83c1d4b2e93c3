//! What the API's read methods return, computed from the node's handles.

use zklink_node::{Action, ChainStatus, FeeError, NodeHandle, StoreError};
use zklink_state::State;
use zklink_types::api::{
    AccountView, BalanceView, BlockStatusView, BlockView, ChainHealthView, ChainStageView, FeeView, HealthView,
    OrderSlotView, PendingWithdrawalView, Stage, TxStatusView,
};
use zklink_types::{AccountId, Address, Op, SlotId, SubAccountId, TokenId, TxHash, TxKind, UnknownTxKind};

/// A pass older than this makes the node unhealthy: it cannot reach the chain.
pub const STALE_AFTER_SECS: u64 = 60;

/// The most blocks [`pending_withdrawals`] reads.
pub const PENDING_WITHDRAWAL_BLOCKS: u32 = 1_000;

/// Which state an account is read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum StateView {
    /// The keeper's state: every accepted tx, the open block included.
    Latest,
    /// The state after the newest block executed on every chain.
    Executed,
}

/// An account named by its L1 address or its L2 id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(untagged)]
pub enum AccountRef {
    /// By owner address.
    Address(Address),
    /// By account id.
    Id(u32),
}

/// The account `address` names (by address or id) in the `view` state, or `None`.
pub fn account(node: &NodeHandle, address: AccountRef, view: StateView) -> Option<AccountView> {
    match view {
        StateView::Latest => account_in(node.keeper().state(), address, None),
        StateView::Executed => {
            let executed = node.executed();
            account_in(executed.state(), address, Some(executed.block()))
        }
    }
}

/// `address`'s account in `state` with its non-zero balances and used order slots.
fn account_in(state: &State, address: AccountRef, executed_block: Option<u32>) -> Option<AccountView> {
    let id = match address {
        AccountRef::Address(a) => state.account_id_by_address(&a)?,
        AccountRef::Id(id) => AccountId(id),
    };
    let acc = state.account(id)?;
    let preset = state.preset();
    let split = |index: u64, bits: u32| ((index >> bits) as u8, (index & ((1 << bits) - 1)) as u16);
    let balances = acc
        .balances
        .leaves()
        .into_iter()
        .map(|(index, _)| split(index, preset.token_bits))
        .map(|(sub, token)| (sub, token, state.balance(id, SubAccountId(sub), TokenId(token))))
        .filter(|(_, _, amount)| *amount != 0)
        .map(|(sub_account, token, amount)| BalanceView { sub_account, token, amount: amount.to_string() })
        .collect();
    let orders = acc
        .orders
        .leaves()
        .into_iter()
        .map(|(index, _)| split(index, preset.slot_bits))
        .map(|(sub, slot)| (sub, slot, state.order_slot(id, SubAccountId(sub), SlotId(slot))))
        .map(|(sub_account, slot, o)| OrderSlotView {
            sub_account,
            slot,
            nonce: o.nonce.0,
            residue: o.residue.to_string(),
        })
        .collect();
    Some(AccountView {
        id: id.0,
        address: acc.address,
        nonce: acc.nonce.0,
        pubkey_hash: acc.pubkey_hash.to_string(),
        balances,
        orders,
        executed_block,
    })
}

/// The stage block `n` reached on a chain whose counters are `status`.
fn chain_stage(node: &NodeHandle, status: &ChainStatus, n: u32) -> Result<ChainStageView, StoreError> {
    let reached = status.counters.map_or(Stage::Sealed, |k| {
        Action::ALL.iter().rev().find(|a| a.of(&k) >= n).map_or(Stage::Sealed, |a| match a {
            Action::Commit | Action::Revert => Stage::Committed,
            Action::Prove => Stage::Proven,
            Action::Sync => Stage::Synced,
            Action::Execute => Stage::Executed,
        })
    });
    let tx = |a: Action| -> Result<_, StoreError> {
        Ok(node.store().l1_tx(status.chain, a as u8, n)?.map(alloy_primitives::B256::from))
    };
    Ok(ChainStageView {
        chain: status.chain,
        stage: reached,
        commit_tx: tx(Action::Commit)?,
        prove_tx: tx(Action::Prove)?,
        sync_tx: tx(Action::Sync)?,
        execute_tx: tx(Action::Execute)?,
    })
}

/// Sealed block `n`'s progress on every chain.
pub fn block_status(node: &NodeHandle, n: u32) -> Result<BlockStatusView, StoreError> {
    let chains = node.chains().iter().map(|c| chain_stage(node, c, n)).collect::<Result<Vec<_>, _>>()?;
    let stage = chains.iter().map(|c| c.stage).min().unwrap_or(Stage::Sealed);
    Ok(BlockStatusView { number: n, stage, chains })
}

/// Sealed block `n`, or `None`.
pub fn block(node: &NodeHandle, n: u32) -> Result<Option<BlockView>, StoreError> {
    let Some(b) = node.store().block(n)? else { return Ok(None) };
    let tx_hashes = b.txs.iter().map(|t| t.as_ref().and_then(|t| t.hash().ok())).collect();
    Ok(Some(BlockView {
        number: n,
        timestamp: b.block.timestamp,
        new_root: format!("0x{}", hex::encode(zklink_crypto::fr_to_bytes(&b.block.new_root))),
        chunks: b.block.chunks,
        ops: b.block.ops,
        tx_hashes,
        status: block_status(node, n)?,
    }))
}

/// Where tx `hash` is, or `None` if the node does not know it (never accepted, or refused).
pub fn tx_status(node: &NodeHandle, hash: TxHash) -> Result<Option<TxStatusView>, StoreError> {
    let view = |stage, failed| TxStatusView { hash, stage, failed, block: None, index: None, chains: Vec::new() };
    let sealed = |(block, index): (u32, u32)| -> Result<Option<TxStatusView>, StoreError> {
        let status = block_status(node, block)?;
        Ok(Some(TxStatusView {
            stage: status.stage,
            block: Some(block),
            index: Some(index),
            chains: status.chains,
            ..view(Stage::Sealed, None)
        }))
    };
    if let Some(location) = node.store().tx_location(&hash)? {
        return sealed(location);
    }
    // The L1 transaction of a deposit or full exit: the status of the priority op it queued.
    if let Some((chain, serial)) = node.store().l1_request(&hash.0)? {
        if let Some(location) = node.store().priority_location(chain, serial)? {
            return sealed(location);
        }
        if node.keeper().is_priority_pending(chain, serial) {
            return Ok(Some(view(Stage::Pending, None)));
        }
    }
    {
        let keeper = node.keeper();
        if keeper.is_pending(&hash) {
            return Ok(Some(view(Stage::Pending, None)));
        }
        if keeper.is_queued(&hash) {
            return Ok(Some(view(Stage::Queued, None)));
        }
    }
    Ok(node.store().failure(&hash)?.map(|reason| view(Stage::Queued, Some(reason))))
}

/// Why a fee estimate cannot be given.
#[derive(thiserror::Error, Debug)]
pub enum FeeEstimateError {
    /// Not a tx type.
    #[error(transparent)]
    Kind(#[from] UnknownTxKind),
    /// The node does not take fees in this token.
    #[error(transparent)]
    Fee(#[from] FeeError),
}

/// The least fee for a tx of `kind` paid in `fee_token`.
pub fn fee(node: &NodeHandle, kind: &str, fee_token: u16) -> Result<FeeView, FeeEstimateError> {
    let chunks = kind.parse::<TxKind>()?.max_chunks();
    let fee = node.keeper().fee_policy().required(chunks, TokenId(fee_token))?;
    Ok(FeeView { tx_type: kind.to_string(), fee_token, fee: fee.to_string(), chunks })
}

/// Withdrawals to `chain` sealed in blocks it has not executed (at most the newest
/// [`PENDING_WITHDRAWAL_BLOCKS`] blocks), oldest first.
pub fn pending_withdrawals(node: &NodeHandle, chain: u8) -> Result<Vec<PendingWithdrawalView>, StoreError> {
    let executed = node.chains().iter().find(|c| c.chain == chain).and_then(|c| c.counters).map_or(0, |k| k.executed);
    let last = node.store().last_block()?;
    let first = (executed + 1).max(last.saturating_sub(PENDING_WITHDRAWAL_BLOCKS - 1));
    let mut out = Vec::new();
    for n in first..=last {
        let Some(b) = node.store().block(n)? else { continue };
        for op in &b.block.ops {
            if let Op::Withdraw(w) = op {
                if w.chain_id.0 == chain {
                    out.push(PendingWithdrawalView {
                        block: n,
                        chain,
                        receiver: w.to,
                        l1_token: w.l1_token.0,
                        amount: w.amount.to_string(),
                        fast_withdraw_fee_ratio: w.fast_withdraw_fee_ratio,
                        account_id: w.account_id.0,
                        sub_account_id: w.sub_account_id.0,
                        nonce: w.nonce.0,
                    });
                }
            }
        }
    }
    Ok(out)
}

/// The node's health: degraded when it stopped accepting txs or a chain has not had a successful
/// pipeline pass for [`STALE_AFTER_SECS`].
pub fn health(node: &NodeHandle) -> HealthView {
    let now = zklink_node::node::unix_now();
    let (accepting, sealed, queued) = {
        let k = node.keeper();
        (k.accepting(), k.next_block_number() - 1, k.queued())
    };
    let (waiting, leased) = node.proofs().backlog();
    let mut problems = Vec::new();
    if !accepting {
        problems.push("the state keeper stopped after a storage failure; restart the node".to_string());
    }
    let chains = node
        .chains()
        .into_iter()
        .map(|c| {
            let since = c.last_success.map(|t| now.saturating_sub(t));
            if since.is_none_or(|s| s > STALE_AFTER_SECS) {
                let why = c.error.clone().unwrap_or_else(|| "no successful pass yet".into());
                problems.push(format!("chain {}: {why}", c.chain));
            }
            ChainHealthView {
                chain: c.chain,
                committed: c.counters.map(|k| k.committed),
                proven: c.counters.map(|k| k.proven),
                synced: c.counters.map(|k| k.synced),
                executed: c.counters.map(|k| k.executed),
                seconds_since_success: since,
                error: c.error,
            }
        })
        .collect();
    HealthView {
        status: if problems.is_empty() { "ok" } else { "degraded" }.into(),
        problems,
        accepting,
        sealed,
        queued,
        proof_jobs_waiting: waiting,
        proof_jobs_leased: leased,
        chains,
    }
}
