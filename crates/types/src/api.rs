//! What the JSON-RPC API returns (docs in `zklink-api`): shared by the server and the SDK so both
//! sides agree on every field.

use serde::{Deserialize, Serialize};

use crate::{Address, Op, TxHash};

/// An account.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AccountView {
    /// Account id.
    pub id: u32,
    /// L1 owner.
    pub address: Address,
    /// Next nonce.
    pub nonce: u32,
    /// L2 key hash, `0x`-hex (all zero: no key set yet).
    pub pubkey_hash: String,
    /// Non-zero balances.
    pub balances: Vec<BalanceView>,
    /// Order slots in use (a resting order's nonce and unfilled residue).
    #[serde(default)]
    pub orders: Vec<OrderSlotView>,
    /// The block this view is as of: `null` for the latest state (open block included), else the
    /// newest block executed on every chain.
    #[serde(default)]
    pub executed_block: Option<u32>,
}

/// One order slot.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct OrderSlotView {
    /// Sub-account.
    pub sub_account: u8,
    /// Slot.
    pub slot: u16,
    /// The order nonce the slot holds.
    pub nonce: u32,
    /// The base amount still open, as a decimal string.
    pub residue: String,
}

impl AccountView {
    /// The balance of `token` in sub-account `sub` (L2 units).
    pub fn balance(&self, sub: u8, token: u16) -> u128 {
        self.balances
            .iter()
            .find(|b| b.sub_account == sub && b.token == token)
            .and_then(|b| b.amount.parse().ok())
            .unwrap_or(0)
    }

    /// Whether an L2 key is set.
    pub fn has_key(&self) -> bool {
        self.pubkey_hash.trim_start_matches("0x").chars().any(|c| c != '0')
    }
}

/// One balance.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct BalanceView {
    /// Sub-account.
    pub sub_account: u8,
    /// Token id.
    pub token: u16,
    /// Amount in L2 units (18 decimals), as a decimal string.
    pub amount: String,
}

/// A sealed block.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct BlockView {
    /// Number.
    pub number: u32,
    /// Seal time (Unix seconds).
    pub timestamp: u64,
    /// State root after it, `0x`-hex.
    pub new_root: String,
    /// Its size in chunks.
    pub chunks: usize,
    /// Its ops.
    pub ops: Vec<Op>,
    /// Hashes of its L2 txs (null for priority requests).
    pub tx_hashes: Vec<Option<TxHash>>,
    /// Its progress on every chain.
    pub status: BlockStatusView,
}

/// The sealed block count and the open block's size.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct BlockNumberView {
    /// Blocks sealed.
    pub sealed: u32,
    /// Chunks used in the open block.
    pub pending_chunks: usize,
}

/// How far a block (or a tx's block) has gone, from accepted to executed on L1.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "camelCase")]
pub enum Stage {
    /// Waiting for an earlier nonce of its account (txs only).
    Queued,
    /// Applied to the open block, durably (txs only).
    Pending,
    /// In a sealed block.
    Sealed,
    /// The block is committed on L1.
    Committed,
    /// Its proof is verified on L1.
    Proven,
    /// The oracles attested that every chain holds it.
    Synced,
    /// Executed: its withdrawals are claimable.
    Executed,
}

/// A block's progress on one chain, with the L1 transactions this node sent for it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ChainStageView {
    /// The zklink chain id.
    pub chain: u8,
    /// How far the block is on this chain.
    pub stage: Stage,
    /// `commitBlocks` transaction.
    pub commit_tx: Option<alloy_primitives::B256>,
    /// `proveBlocks` transaction.
    pub prove_tx: Option<alloy_primitives::B256>,
    /// `syncBlocks` transaction.
    pub sync_tx: Option<alloy_primitives::B256>,
    /// `executeBlocks` transaction.
    pub execute_tx: Option<alloy_primitives::B256>,
}

/// A sealed block's progress on every chain.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct BlockStatusView {
    /// The block.
    pub number: u32,
    /// The least advanced chain's stage.
    pub stage: Stage,
    /// Per chain, in chain order.
    pub chains: Vec<ChainStageView>,
}

/// Where a tx is.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TxStatusView {
    /// The tx.
    pub hash: TxHash,
    /// Its stage (the least advanced chain's once sealed); `failed` set instead when it failed.
    pub stage: Stage,
    /// Why a queued tx failed when its turn came (it will never be applied).
    pub failed: Option<String>,
    /// Its block, once sealed.
    pub block: Option<u32>,
    /// Its op's index in the block.
    pub index: Option<u32>,
    /// Its block's progress per chain, once sealed.
    pub chains: Vec<ChainStageView>,
}

/// What `zklink_submitTxs` did with a batch of txs.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SubmitTxsView {
    /// The hashes of the txs accepted (applied to the open block or queued behind an earlier
    /// nonce), durably: the batch's first txs, in order.
    pub accepted: Vec<TxHash>,
    /// The first tx not accepted, if one was not; the txs after it were not looked at.
    pub refused: Option<TxRefusalView>,
}

/// The first tx of a batch that was not accepted.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TxRefusalView {
    /// Its index in the batch (0-based; also the number of txs accepted).
    pub index: usize,
    /// The JSON-RPC error code `zklink_submitTx` would give for it.
    pub code: i32,
    /// The error message `zklink_submitTx` would give for it.
    pub message: String,
}

/// The fee a tx must pay.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct FeeView {
    /// The tx type (`Transfer`, `Withdraw`, `Swap`, …: a [`crate::TxKind`] name).
    pub tx_type: String,
    /// The token the fee is paid in.
    pub fee_token: u16,
    /// The least fee accepted, L2 units, as a decimal string.
    pub fee: String,
    /// The chunks the fee pays for (the op's largest size).
    pub chunks: usize,
}

/// A withdrawal sealed in a block not yet executed on its chain: an acceptor may pay it now
/// (`acceptWithdraw` with these fields) and be repaid at execution.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PendingWithdrawalView {
    /// Its block.
    pub block: u32,
    /// The chain it is paid on.
    pub chain: u8,
    /// The receiver on L1.
    pub receiver: Address,
    /// The token paid on L1.
    pub l1_token: u16,
    /// The amount, L2 units (18 decimals), as a decimal string.
    pub amount: String,
    /// The fee ratio the owner offers an acceptor (over 10000); 0: not a fast withdrawal.
    pub fast_withdraw_fee_ratio: u16,
    /// The owner's account.
    pub account_id: u32,
    /// Its sub-account.
    pub sub_account_id: u8,
    /// The nonce the withdrawal used (keys it on L1).
    pub nonce: u32,
}

/// One chain in [`HealthView`].
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ChainHealthView {
    /// The zklink chain id.
    pub chain: u8,
    /// Blocks committed, proven, synced and executed on it, as last read.
    pub committed: Option<u32>,
    /// See `committed`.
    pub proven: Option<u32>,
    /// See `committed`.
    pub synced: Option<u32>,
    /// See `committed`.
    pub executed: Option<u32>,
    /// Seconds since a pipeline pass last succeeded on it.
    pub seconds_since_success: Option<u64>,
    /// The last pass's error.
    pub error: Option<String>,
}

/// The node's health (`zklink_health`, `GET /health`).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct HealthView {
    /// `ok`, or `degraded` with the reasons in `problems`.
    pub status: String,
    /// What is wrong.
    pub problems: Vec<String>,
    /// Whether txs are accepted (false after a storage failure).
    pub accepting: bool,
    /// Blocks sealed.
    pub sealed: u32,
    /// Txs waiting for an earlier nonce.
    pub queued: usize,
    /// Proof jobs waiting for a worker.
    pub proof_jobs_waiting: usize,
    /// Proof jobs a worker holds.
    pub proof_jobs_leased: usize,
    /// Each chain.
    pub chains: Vec<ChainHealthView>,
}

/// A public L1 JSON-RPC endpoint the node tells wallets to use for a chain (`zklink_l1Endpoints`).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct L1EndpointView {
    /// The zklink chain id.
    pub chain: u8,
    /// Its EVM chain id: what the endpoint's `eth_chainId` must answer.
    pub l1_chain_id: u64,
    /// The endpoint's URL.
    pub url: String,
}

/// An AMM pool (`zklink_pools`, `zklink_pool`): its parameters, reserves and share supply in the
/// latest state (open block included), and its spot price.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PoolView {
    /// The pool's account id (what the pool txs name as `pool`).
    pub pool: u32,
    /// The pool account's address, which encodes its parameters.
    pub address: Address,
    /// The curve.
    pub kind: crate::PoolKind,
    /// The swap fee in basis points (1/10^4).
    pub fee_bps: u16,
    /// The protocol's share of the swap fee, in percent.
    pub protocol_share: u8,
    /// A stable pool's amplification; 0 for constant product.
    pub amp: u16,
    /// The pool's first token (the smaller id).
    pub token_a: u16,
    /// The pool's second token.
    pub token_b: u16,
    /// The pool's LP share token.
    pub lp_token: u16,
    /// `token_a`'s symbol on the network (`USD`, `WETH`, …).
    pub symbol_a: String,
    /// `token_b`'s symbol.
    pub symbol_b: String,
    /// Reserve of `token_a`, L2 units.
    #[serde(with = "crate::serde_str")]
    pub reserve_a: u128,
    /// Reserve of `token_b`, L2 units.
    #[serde(with = "crate::serde_str")]
    pub reserve_b: u128,
    /// LP shares in existence, L2 units (the 1000 units locked by the first deposit included).
    #[serde(with = "crate::serde_str")]
    pub supply: u128,
    /// The spot price, `null` while the pool is empty.
    pub price: Option<PoolPriceView>,
}

impl PoolView {
    /// The pool's parameters.
    pub fn params(&self) -> crate::PoolParams {
        crate::PoolParams {
            kind: self.kind,
            fee_bps: self.fee_bps,
            protocol_share: self.protocol_share,
            amp: self.amp,
            token_a: crate::TokenId(self.token_a),
            token_b: crate::TokenId(self.token_b),
            lp_token: crate::TokenId(self.lp_token),
        }
    }

    /// Its reserves and share supply.
    pub fn reserves(&self) -> crate::Reserves {
        crate::Reserves { a: self.reserve_a, b: self.reserve_b, supply: self.supply }
    }

    /// `"USD/WETH"`: the first token's symbol, then the second's.
    pub fn pair(&self) -> String {
        format!("{}/{}", self.symbol_a, self.symbol_b)
    }
}

/// A pool's spot price both ways: integers with 18 decimals (10^18 is a price of 1), rounded
/// down, as decimal strings (a price may exceed 2^128).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PoolPriceView {
    /// Token B per token A: `⌊reserveB · 10^18 / reserveA⌋`.
    pub b_per_a: String,
    /// Token A per token B: `⌊reserveA · 10^18 / reserveB⌋`.
    pub a_per_b: String,
}

/// `zklink_quoteSwap`'s param: a swap to price on the current state.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct QuoteSwapRequest {
    /// The pool's account id.
    pub pool: u32,
    /// The token paid in (one of the pool's two).
    pub token_in: u16,
    /// `false` (the default): `amount` is the exact input; `true`: the exact output.
    #[serde(default)]
    pub exact_out: bool,
    /// The exact input or output, L2 units.
    #[serde(with = "crate::serde_str")]
    pub amount: u128,
}

/// What a swap executes at on the current state (`zklink_quoteSwap`): a Swap signed with these
/// amounts (and `networkFee`) and submitted at once pays exactly `amountIn` and receives exactly
/// `amountOut`, unless another tx moved the pool first.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SwapQuoteView {
    /// The pool.
    pub pool: u32,
    /// The token paid.
    pub token_in: u16,
    /// The token received.
    pub token_out: u16,
    /// Which side was given exactly.
    pub exact_out: bool,
    /// What the trader pays into the swap, in `tokenIn`, the swap fee included (the network fee
    /// not): exact in, the amount asked; exact out, rounded up.
    #[serde(with = "crate::serde_str")]
    pub amount_in: u128,
    /// What the trader receives, in `tokenOut`: exact out, the amount asked; exact in, rounded
    /// down.
    #[serde(with = "crate::serde_str")]
    pub amount_out: u128,
    /// The protocol's part of the swap fee, in `tokenIn`: `⌊amountIn · feeBps · protocolShare /
    /// 10^6⌋`, paid to account 0.
    #[serde(with = "crate::serde_str")]
    pub protocol_fee: u128,
    /// The liquidity providers' part of the swap fee, in `tokenIn`: `⌊amountIn · feeBps / 10^4⌋ −
    /// protocolFee`; it stays in the pool.
    #[serde(with = "crate::serde_str")]
    pub lp_fee: u128,
    /// The node's least network fee for a Swap paid in `tokenIn` (what `zklink_estimateFee
    /// ["Swap", tokenIn]` answers), on top of `amountIn`.
    #[serde(with = "crate::serde_str")]
    pub network_fee: u128,
    /// `tokenOut` per `tokenIn` at the pool's reserves before the swap, 18 decimals, rounded down.
    pub spot_price: String,
    /// `amountOut / amountIn`, 18 decimals, rounded down.
    pub execution_price: String,
    /// How much worse the execution price is than the spot price, in basis points, rounded up:
    /// `10^4 − ⌊10^4 · executionPrice / spotPrice⌋` computed exactly. It includes the swap fee (a
    /// tiny swap in a 30 bps pool shows 30).
    pub price_impact_bps: u32,
}

/// `zklink_quoteLiquidity`'s param: a deposit into a pool.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct QuoteLiquidityRequest {
    /// The pool's account id.
    pub pool: u32,
    /// The most of the pool's first token to pay, L2 units.
    #[serde(with = "crate::serde_str")]
    pub max_a: u128,
    /// The most of the pool's second token to pay, L2 units.
    #[serde(with = "crate::serde_str")]
    pub max_b: u128,
}

/// What an AddLiquidity with these maximums executes at on the current state.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct LiquidityQuoteView {
    /// The pool.
    pub pool: u32,
    /// Taken of the first token (rounded up), at most `maxA`; the network fee comes on top.
    #[serde(with = "crate::serde_str")]
    pub amount_a: u128,
    /// Taken of the second token (rounded up), at most `maxB`.
    #[serde(with = "crate::serde_str")]
    pub amount_b: u128,
    /// LP shares credited (rounded down; a first deposit's 1000 locked units excluded).
    #[serde(with = "crate::serde_str")]
    pub shares: u128,
}

/// `zklink_quoteRemove`'s param: shares to burn.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct QuoteRemoveRequest {
    /// The pool's account id.
    pub pool: u32,
    /// LP shares to burn, L2 units.
    #[serde(with = "crate::serde_str")]
    pub shares: u128,
}

/// What a RemoveLiquidity of these shares pays on the current state.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RemoveQuoteView {
    /// The pool.
    pub pool: u32,
    /// The shares burnt.
    #[serde(with = "crate::serde_str")]
    pub shares: u128,
    /// Paid of the first token (rounded down), before the network fee, which is paid out of it.
    #[serde(with = "crate::serde_str")]
    pub amount_a: u128,
    /// Paid of the second token (rounded down).
    #[serde(with = "crate::serde_str")]
    pub amount_b: u128,
}
