//! zklink's JSON-RPC 2.0 API, over HTTP and WebSocket on one port (docs/api.md; the
//! machine-readable description is docs/openrpc.json, served by `rpc.discover`).
//!
//! | method | params | result |
//! |---|---|---|
//! | `zklink_health` | — | the node's health |
//! | `zklink_network` | — | the network: chains, tokens, preset |
//! | `zklink_account` | `[address or id, view?]` | the account (id, nonce, key hash, non-zero balances, order slots) in the `latest` (default) or `executed` state, or `null` |
//! | `zklink_submitTx` | `[tx]` | the tx hash once the tx is applied or queued, durably |
//! | `zklink_submitTxs` | `[[tx, …]]` (at most [`MAX_BATCH_TXS`]) | `{ accepted: [hash, …], refused: null \| { index, code, message } }`: the txs in order up to the first refused, durable with one commit |
//! | `zklink_txStatus` | `[hash]` | the tx's (or an L1 deposit's or full exit's) stage, block and L1 transactions, or `null` |
//! | `zklink_estimateFee` | `[txType, feeToken]` | the least fee accepted |
//! | `zklink_blockNumber` | — | `{ sealed, pendingChunks }` |
//! | `zklink_block` | `[number]` | the sealed block with its status on every chain, or `null` |
//! | `zklink_pendingWithdrawals` | `[chainId]` | withdrawals to the chain not yet executed on it |
//! | `zklink_l1Endpoints` | — | `[{ chain, l1ChainId, url }]`: the public L1 RPC endpoints wallets may use |
//! | `zklink_pools` | — | every AMM pool: parameters, symbols, reserves, share supply, spot price ([`pools`]) |
//! | `zklink_pool` | `[pool]` | one pool (an error naming the id if the account is not a pool) |
//! | `zklink_quoteSwap` | `[{ pool, tokenIn, exactOut, amount }]` | what the swap executes at now: amounts, fees, prices, price impact |
//! | `zklink_quoteLiquidity` | `[{ pool, maxA, maxB }]` | what a deposit takes and the shares it gets now |
//! | `zklink_quoteRemove` | `[{ pool, shares }]` | what burning the shares pays now |
//! | `zklink_proverLease` | `[token, worker]` | a proof job, or `null` (remote provers) |
//! | `zklink_proverSubmit` | `[token, block, proof]` | `true` once the proof verified and is stored |
//! | `zklink_subscribeBlocks` | — | block events (WebSocket) |
//! | `zklink_subscribeAccount` | `[address]` | the account whenever it changes (WebSocket) |
//! | `zklink_subscribeTx` | `[hash]` | the tx's status whenever it changes (WebSocket) |
//! | `rpc.discover` | — | the OpenRPC document |
//!
//! `GET /health` and `GET /metrics` on the same port serve the health view and Prometheus
//! metrics. Rejections are JSON-RPC errors with a code per kind ([`codes`]) and the reason as
//! message, with tokens by symbol and amounts in whole tokens ([`messages`]). The per-chain
//! reserves are account 1's balances: `zklink_account ["0xff…ff"]` (sub-account = chain; its
//! sub-account 0 is the pool registry, LP token → pool account id + 1). A pool is an account
//! too: `zklink_account [pool address]` shows its reserves and share supply in sub-account 0.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod http;
pub mod messages;
pub mod pools;
pub mod subscriptions;
pub mod views;

use std::net::SocketAddr;

use jsonrpsee::server::{Server, ServerHandle};
use jsonrpsee::types::{ErrorObjectOwned, Params};
use jsonrpsee::RpcModule;
use zklink_executor::verify::{verify_batch, VerifiedTx};
use zklink_node::node::unix_now;
use zklink_node::{BatchOutcome, NodeHandle, ProofError, SubmitError, Submitted};
use zklink_types::api::{
    BlockNumberView, L1EndpointView, QuoteLiquidityRequest, QuoteRemoveRequest, QuoteSwapRequest, SubmitTxsView,
    TxRefusalView,
};
use zklink_types::{ChainId, L2Tx, Network, TxHash};

/// The OpenRPC description of every method (docs/openrpc.json).
pub const OPENRPC: &str = include_str!("../../../docs/openrpc.json");

/// The most txs `zklink_submitTxs` takes in one call.
pub const MAX_BATCH_TXS: usize = 1000;

/// Error codes of the API (the JSON-RPC server range).
pub mod codes {
    /// The params are not what the method takes.
    pub const INVALID_PARAMS: i32 = -32602;
    /// The tx is invalid: bad signature, nonce, balance, fields…
    pub const TX_REJECTED: i32 = -32001;
    /// The same tx was already accepted.
    pub const TX_DUPLICATE: i32 = -32002;
    /// A priority request out of order (not submitted through the API).
    pub const OUT_OF_ORDER: i32 = -32003;
    /// A tx with a future nonce may not wait: too far ahead, or a queue limit reached.
    pub const QUEUE_LIMIT: i32 = -32004;
    /// The fee is below the node's price or in a token it does not take.
    pub const FEE: i32 = -32005;
    /// The node cannot accept txs until it is restarted (storage failure).
    pub const NODE_STOPPED: i32 = -32010;
    /// A prover's proof was refused (it does not verify, or the job is not leased).
    pub const PROOF_REFUSED: i32 = -32020;
    /// A prover method was called without the node's prover token.
    pub const UNAUTHORIZED: i32 = -32021;
    /// Reading the node's store failed.
    pub const INTERNAL: i32 = -32603;
}

/// Errors starting the server.
#[derive(thiserror::Error, Debug)]
pub enum ApiError {
    /// Binding or starting the server failed.
    #[error("API server: {0}")]
    Server(#[source] std::io::Error),
}

/// Options of the API.
#[derive(Clone, Debug, Default)]
pub struct ApiConfig {
    /// The secret remote provers present; `None`: no prover methods are served.
    pub prover_token: Option<String>,
    /// Per chain, a public L1 JSON-RPC URL wallets may use for deposits, full exits and claims
    /// (`zklink_l1Endpoints`); chains not named have none published.
    pub l1_endpoints: std::collections::BTreeMap<ChainId, String>,
}

/// What every method sees.
pub struct Context {
    /// The node.
    pub node: NodeHandle,
    /// The network.
    pub network: Network,
    /// See [`ApiConfig::prover_token`].
    pub prover_token: Option<String>,
    /// The published L1 endpoints of the network's chains ([`ApiConfig::l1_endpoints`]).
    pub l1_endpoints: Vec<L1EndpointView>,
}

/// A running API server.
pub struct Api {
    /// Where it listens.
    pub addr: SocketAddr,
    handle: ServerHandle,
}

impl Api {
    /// Stops the server and waits until it has.
    pub async fn stop(self) {
        let _ = self.handle.stop();
        self.handle.stopped().await;
    }
}

/// Invalid params: what the method takes, and the parser's reason.
pub(crate) fn invalid(expected: &str, e: ErrorObjectOwned) -> ErrorObjectOwned {
    let reason = e.data().map_or_else(|| e.message().to_string(), |d| d.get().trim_matches('"').to_string());
    ErrorObjectOwned::owned(codes::INVALID_PARAMS, format!("expected {expected}: {reason}"), None::<()>)
}

fn error(code: i32, msg: impl ToString) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(code, msg.to_string(), None::<()>)
}

fn internal(msg: impl ToString) -> ErrorObjectOwned {
    error(codes::INTERNAL, msg)
}

/// The error code of a refusal and its label in the metrics.
fn refusal(e: &SubmitError) -> (i32, &'static str) {
    match e {
        SubmitError::Rejected(_) => (codes::TX_REJECTED, "rejected"),
        SubmitError::Fee(_) => (codes::FEE, "fee"),
        SubmitError::Duplicate(_) => (codes::TX_DUPLICATE, "duplicate"),
        SubmitError::Queue(_) => (codes::QUEUE_LIMIT, "queue"),
        SubmitError::OutOfOrder { .. } => (codes::OUT_OF_ORDER, "out_of_order"),
        SubmitError::Storage(_) | SubmitError::Seal(_) | SubmitError::Stopped => (codes::NODE_STOPPED, "stopped"),
    }
}

fn submit(ctx: &Context, tx: L2Tx) -> Result<TxHash, ErrorObjectOwned> {
    let tokens = messages::TxTokens::of(&tx);
    // Signatures are checked before the keeper's lock is taken, in parallel across requests.
    let result = VerifiedTx::verify(tx)
        .map_err(SubmitError::Rejected)
        .and_then(|verified| ctx.node.keeper().submit_verified(verified, unix_now()));
    match result {
        Ok(submitted) => {
            count_accepted(ctx, &submitted);
            Ok(submitted.hash())
        }
        Err(e) => Err(refuse(ctx, &e, &tokens)),
    }
}

fn count_accepted(ctx: &Context, submitted: &Submitted) {
    let status = if matches!(submitted, Submitted::Queued(_)) { "queued" } else { "applied" };
    ctx.node.metrics().txs_accepted.with_label_values(&[status]).inc();
}

/// Counts a refusal and renders it as `zklink_submitTx` answers it.
fn refuse(ctx: &Context, e: &SubmitError, tokens: &messages::TxTokens) -> ErrorObjectOwned {
    let (code, label) = refusal(e);
    ctx.node.metrics().txs_refused.with_label_values(&[label]).inc();
    error(code, messages::submit_error(e, &ctx.network, tokens))
}

/// `zklink_submitTxs`: every signature is checked in parallel before the keeper's lock is taken,
/// then the txs before the first bad signature go to the keeper as one batch (one commit). The
/// first refusal, the keeper's or the signature check's, ends the batch.
fn submit_batch(ctx: &Context, txs: Vec<L2Tx>) -> SubmitTxsView {
    let tokens: Vec<messages::TxTokens> = txs.iter().map(messages::TxTokens::of).collect();
    let mut verified = Vec::with_capacity(txs.len());
    let mut bad_signature = None;
    for (i, v) in verify_batch(txs).into_iter().enumerate() {
        match v {
            Ok(v) => verified.push(v),
            Err(e) => {
                bad_signature = Some((i, SubmitError::Rejected(e)));
                break;
            }
        }
    }
    let BatchOutcome { accepted, refused } = if verified.is_empty() {
        BatchOutcome { accepted: Vec::new(), refused: None }
    } else {
        ctx.node.keeper().submit_batch(verified, unix_now())
    };
    for submitted in &accepted {
        count_accepted(ctx, submitted);
    }
    let refused = refused.or(bad_signature).map(|(index, e)| {
        let tokens = tokens.get(index).copied().unwrap_or_default();
        let obj = refuse(ctx, &e, &tokens);
        TxRefusalView { index, code: obj.code(), message: obj.message().to_string() }
    });
    SubmitTxsView { accepted: accepted.iter().map(Submitted::hash).collect(), refused }
}

/// The prover token must be the configured one.
fn authorise(ctx: &Context, token: &str) -> Result<(), ErrorObjectOwned> {
    match &ctx.prover_token {
        Some(t) if t == token => Ok(()),
        _ => Err(error(codes::UNAUTHORIZED, "the prover token is wrong")),
    }
}

fn prover_submit(ctx: &Context, block: u32, proof: &str) -> Result<bool, ErrorObjectOwned> {
    let proof = zklink_prover_worker::job::decode_proof(proof).map_err(|e| error(codes::INVALID_PARAMS, e))?;
    match ctx.node.complete_proof(block, &proof) {
        Ok(()) => Ok(true),
        Err(e @ ProofError::Store(_)) => Err(internal(e)),
        Err(e) => Err(error(codes::PROOF_REFUSED, e)),
    }
}

/// `[address | id]` (the latest state) or `[address | id, view]`.
fn parse_account_params(params: &Params) -> Result<(views::AccountRef, views::StateView), ErrorObjectOwned> {
    let mut seq = params.sequence();
    let address: views::AccountRef = seq.next()?;
    let view: Option<views::StateView> = seq.optional_next()?;
    Ok((address, view.unwrap_or(views::StateView::Latest)))
}

/// A pool method's refusal as a JSON-RPC error: invalid params for an account that is not a pool
/// or a token not in it, the executor's rejection (as `zklink_submitTx` gives it) for an amount
/// the pool cannot serve, a fee refusal for a fee token the node does not take.
fn pool_refusal(ctx: &Context, e: &pools::PoolError) -> ErrorObjectOwned {
    let code = match e {
        pools::PoolError::NotAPool { .. } | pools::PoolError::NotInPool { .. } => codes::INVALID_PARAMS,
        pools::PoolError::Rejected { .. } => codes::TX_REJECTED,
        pools::PoolError::Fee(_) => codes::FEE,
    };
    error(code, messages::pool_error(e, &ctx.network))
}

/// Method names are unique literals, so registering cannot fail.
fn ok<T>(r: Result<T, jsonrpsee::core::RegisterMethodError>) {
    r.map(drop).expect("method names are unique literals");
}

/// The API's methods over `node`.
pub fn module(node: NodeHandle, network: Network, cfg: ApiConfig) -> RpcModule<Context> {
    let serve_prover = cfg.prover_token.is_some();
    let l1_endpoints = network
        .chains
        .iter()
        .filter_map(|c| {
            let url = cfg.l1_endpoints.get(&c.id)?;
            Some(L1EndpointView { chain: c.id.0, l1_chain_id: c.l1_chain_id, url: url.clone() })
        })
        .collect();
    let mut m = RpcModule::new(Context { node, network, prover_token: cfg.prover_token, l1_endpoints });
    ok(m.register_method("zklink_health", |_, ctx, _| Ok::<_, ErrorObjectOwned>(views::health(&ctx.node))));
    ok(m.register_method("zklink_network", |_, ctx, _| Ok::<_, ErrorObjectOwned>(ctx.network.clone())));
    ok(m.register_method("zklink_account", |params: Params, ctx, _| {
        let expected = "[address or account id] or [address or account id, \"latest\" | \"executed\"]";
        let (address, view) = parse_account_params(&params).map_err(|e| invalid(expected, e))?;
        Ok::<_, ErrorObjectOwned>(views::account(&ctx.node, address, view))
    }));
    ok(m.register_method("zklink_submitTx", |params: Params, ctx, _| {
        let (tx,): (L2Tx,) = params.parse().map_err(|e| invalid("[tx]", e))?;
        submit(ctx, tx)
    }));
    ok(m.register_method("zklink_submitTxs", |params: Params, ctx, _| {
        let expected = format!("[[tx, …]] with at most {MAX_BATCH_TXS} txs");
        let (txs,): (Vec<L2Tx>,) = params.parse().map_err(|e| invalid(&expected, e))?;
        if txs.len() > MAX_BATCH_TXS {
            let msg = format!("expected {expected}: got {} txs", txs.len());
            return Err(error(codes::INVALID_PARAMS, msg));
        }
        Ok(submit_batch(ctx, txs))
    }));
    ok(m.register_method("zklink_txStatus", |params: Params, ctx, _| {
        let (hash,): (TxHash,) = params.parse().map_err(|e| invalid("[tx hash]", e))?;
        views::tx_status(&ctx.node, hash).map_err(internal)
    }));
    ok(m.register_method("zklink_estimateFee", |params: Params, ctx, _| {
        let (kind, token): (String, u16) = params.parse().map_err(|e| invalid("[txType, feeToken]", e))?;
        views::fee(&ctx.node, &kind, token).map_err(|e| match e {
            views::FeeEstimateError::Fee(f) => error(codes::INVALID_PARAMS, messages::fee_error(&f, &ctx.network)),
            other => error(codes::INVALID_PARAMS, other),
        })
    }));
    ok(m.register_method("zklink_blockNumber", |_, ctx, _| {
        let keeper = ctx.node.keeper();
        Ok::<_, ErrorObjectOwned>(BlockNumberView {
            sealed: keeper.next_block_number() - 1,
            pending_chunks: keeper.pending_chunks(),
        })
    }));
    ok(m.register_method("zklink_block", |params: Params, ctx, _| {
        let (n,): (u32,) = params.parse().map_err(|e| invalid("[number]", e))?;
        views::block(&ctx.node, n).map_err(internal)
    }));
    ok(m.register_method("zklink_pendingWithdrawals", |params: Params, ctx, _| {
        let (chain,): (u8,) = params.parse().map_err(|e| invalid("[chainId]", e))?;
        views::pending_withdrawals(&ctx.node, chain).map_err(internal)
    }));
    ok(m.register_method("zklink_l1Endpoints", |_, ctx, _| Ok::<_, ErrorObjectOwned>(ctx.l1_endpoints.clone())));
    ok(m.register_method("zklink_pools", |_, ctx, _| Ok::<_, ErrorObjectOwned>(pools::pools(&ctx.node, &ctx.network))));
    ok(m.register_method("zklink_pool", |params: Params, ctx, _| {
        let (id,): (u32,) = params.parse().map_err(|e| invalid("[pool account id]", e))?;
        pools::pool(&ctx.node, &ctx.network, id).map_err(|e| pool_refusal(ctx, &e))
    }));
    ok(m.register_method("zklink_quoteSwap", |params: Params, ctx, _| {
        let expected = "[{ pool, tokenIn, exactOut, amount }] (amount: a decimal string of L2 units)";
        let (q,): (QuoteSwapRequest,) = params.parse().map_err(|e| invalid(expected, e))?;
        pools::quote_swap(&ctx.node, &ctx.network, &q).map_err(|e| pool_refusal(ctx, &e))
    }));
    ok(m.register_method("zklink_quoteLiquidity", |params: Params, ctx, _| {
        let expected = "[{ pool, maxA, maxB }] (amounts: decimal strings of L2 units)";
        let (q,): (QuoteLiquidityRequest,) = params.parse().map_err(|e| invalid(expected, e))?;
        pools::quote_liquidity(&ctx.node, &ctx.network, &q).map_err(|e| pool_refusal(ctx, &e))
    }));
    ok(m.register_method("zklink_quoteRemove", |params: Params, ctx, _| {
        let expected = "[{ pool, shares }] (shares: a decimal string of L2 units)";
        let (q,): (QuoteRemoveRequest,) = params.parse().map_err(|e| invalid(expected, e))?;
        pools::quote_remove(&ctx.node, &ctx.network, &q).map_err(|e| pool_refusal(ctx, &e))
    }));
    if serve_prover {
        ok(m.register_method("zklink_proverLease", |params: Params, ctx, _| {
            let (token, worker): (String, String) = params.parse().map_err(|e| invalid("[token, worker]", e))?;
            authorise(ctx, &token)?;
            ctx.node.proofs().lease(&worker).map_err(internal)
        }));
        ok(m.register_method("zklink_proverSubmit", |params: Params, ctx, _| {
            let (token, block, proof): (String, u32, String) =
                params.parse().map_err(|e| invalid("[token, block, proof]", e))?;
            authorise(ctx, &token)?;
            prover_submit(ctx, block, &proof)
        }));
    }
    ok(m.register_subscription(
        "zklink_subscribeBlocks",
        "zklink_blockEvent",
        "zklink_unsubscribeBlocks",
        |_, pending, ctx, _| async move { subscriptions::blocks(pending, ctx.node.clone()).await },
    ));
    ok(m.register_subscription(
        "zklink_subscribeAccount",
        "zklink_accountChanged",
        "zklink_unsubscribeAccount",
        |params, pending, ctx, _| async move { subscriptions::account(params, pending, &ctx).await },
    ));
    ok(m.register_subscription(
        "zklink_subscribeTx",
        "zklink_txStatusChanged",
        "zklink_unsubscribeTx",
        |params, pending, ctx, _| async move { subscriptions::tx(params, pending, &ctx).await },
    ));
    ok(m.register_method("rpc.discover", |_, _, _| {
        serde_json::from_str::<serde_json::Value>(OPENRPC).map_err(internal)
    }));
    m
}

/// Serves the API on `addr` (e.g. `127.0.0.1:0`) without prover methods.
pub async fn serve(addr: SocketAddr, node: NodeHandle, network: Network) -> Result<Api, ApiError> {
    serve_with(addr, node, network, ApiConfig::default()).await
}

/// Serves the API on `addr`: JSON-RPC over HTTP and WebSocket, `/health` and `/metrics`.
pub async fn serve_with(addr: SocketAddr, node: NodeHandle, network: Network, cfg: ApiConfig) -> Result<Api, ApiError> {
    let server = Server::builder()
        .set_http_middleware(tower::ServiceBuilder::new().layer(http::node_probes(node.clone())))
        .build(addr)
        .await
        .map_err(ApiError::Server)?;
    let addr = server.local_addr().map_err(ApiError::Server)?;
    let handle = server.start(module(node, network, cfg));
    tracing::info!(%addr, "JSON-RPC API listening (HTTP and WebSocket; GET /health, GET /metrics)");
    Ok(Api { addr, handle })
}
