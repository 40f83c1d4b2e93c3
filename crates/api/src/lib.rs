//! zklink's JSON-RPC 2.0 API over HTTP. Methods (docs/api.md):
//!
//! | method | params | result |
//! |---|---|---|
//! | `zklink_health` | — | `"ok"` |
//! | `zklink_network` | — | the network: chains, tokens, preset |
//! | `zklink_account` | `[address]` | the account (id, nonce, key hash, non-zero balances) or `null` |
//! | `zklink_submitTx` | `[tx]` | the tx hash once the tx is applied and durable |
//! | `zklink_blockNumber` | — | `{ sealed, pendingChunks }` |
//! | `zklink_block` | `[number]` | the sealed block or `null` |
//!
//! Rejections are JSON-RPC errors with a code per kind ([`codes`]) and the reason as message.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::net::SocketAddr;

use jsonrpsee::server::{Server, ServerHandle};
use jsonrpsee::types::{ErrorObjectOwned, Params};
use jsonrpsee::RpcModule;
use zklink_executor::verify::VerifiedTx;
use zklink_node::node::unix_now;
use zklink_node::{NodeHandle, SubmitError};
use zklink_types::api::{AccountView, BalanceView, BlockNumberView, BlockView};
use zklink_types::{Address, L2Tx, Network, SubAccountId, TokenId};

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
    /// The node cannot accept txs until it is restarted (storage failure).
    pub const NODE_STOPPED: i32 = -32010;
    /// Reading the node's store failed.
    pub const INTERNAL: i32 = -32603;
}

/// Errors starting the server.
#[derive(thiserror::Error, Debug)]
pub enum ApiError {
    /// Binding or starting the HTTP server failed.
    #[error("API server: {0}")]
    Server(String),
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
fn invalid(expected: &str, e: ErrorObjectOwned) -> ErrorObjectOwned {
    let reason = e.data().map_or_else(|| e.message().to_string(), |d| d.get().trim_matches('"').to_string());
    ErrorObjectOwned::owned(codes::INVALID_PARAMS, format!("expected {expected}: {reason}"), None::<()>)
}

fn internal(msg: impl ToString) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(codes::INTERNAL, msg.to_string(), None::<()>)
}

fn submit_error(e: SubmitError) -> ErrorObjectOwned {
    let code = match &e {
        SubmitError::Rejected(_) => codes::TX_REJECTED,
        SubmitError::Duplicate(_) => codes::TX_DUPLICATE,
        SubmitError::OutOfOrder { .. } => codes::OUT_OF_ORDER,
        SubmitError::Storage(_) | SubmitError::Stopped => codes::NODE_STOPPED,
    };
    ErrorObjectOwned::owned(code, e.to_string(), None::<()>)
}

fn account(node: &NodeHandle, network: &Network, address: Address) -> Option<AccountView> {
    let keeper = node.keeper();
    let state = keeper.state();
    let id = state.account_id_by_address(&address)?;
    let acc = state.account(id)?;
    let mut tokens: Vec<u16> = vec![1];
    tokens.extend(network.tokens.iter().map(|t| t.id.0));
    let subs = 1u16 << network.preset.sub_account_bits;
    let mut balances = Vec::new();
    for sub in 0..subs {
        for &token in &tokens {
            let amount = state.balance(id, SubAccountId(sub as u8), TokenId(token));
            if amount != 0 {
                balances.push(BalanceView { sub_account: sub as u8, token, amount: amount.to_string() });
            }
        }
    }
    Some(AccountView { id: id.0, address, nonce: acc.nonce.0, pubkey_hash: acc.pubkey_hash.to_string(), balances })
}

fn block(node: &NodeHandle, n: u32) -> Result<Option<BlockView>, ErrorObjectOwned> {
    let Some(b) = node.store().block(n).map_err(internal)? else { return Ok(None) };
    let tx_hashes = b.txs.iter().map(|t| t.as_ref().and_then(|t| t.hash().ok())).collect();
    Ok(Some(BlockView {
        number: n,
        timestamp: b.block.timestamp,
        new_root: format!("0x{}", hex::encode(zklink_crypto::fr_to_bytes(&b.block.new_root))),
        chunks: b.block.chunks,
        ops: b.block.ops,
        tx_hashes,
    }))
}

/// Method names are unique literals, so registering cannot fail.
fn ok<T>(r: Result<T, jsonrpsee::core::RegisterMethodError>) {
    r.map(drop).expect("method names are unique literals");
}

/// The API's methods over `node`.
pub fn module(node: NodeHandle, network: Network) -> RpcModule<(NodeHandle, Network)> {
    let mut m = RpcModule::new((node, network));
    ok(m.register_method("zklink_health", |_, _, _| "ok"));
    ok(m.register_method("zklink_network", |_, ctx, _| Ok::<_, ErrorObjectOwned>(ctx.1.clone())));
    ok(m.register_method("zklink_account", |params: Params, ctx, _| {
        let (address,): (Address,) = params.parse().map_err(|e| invalid("[address]", e))?;
        Ok::<_, ErrorObjectOwned>(account(&ctx.0, &ctx.1, address))
    }));
    ok(m.register_method("zklink_submitTx", |params: Params, ctx, _| {
        let (tx,): (L2Tx,) = params.parse().map_err(|e| invalid("[tx]", e))?;
        // Signatures are checked before the keeper's lock is taken, in parallel across requests.
        let verified = VerifiedTx::verify(tx).map_err(|e| submit_error(SubmitError::Rejected(e)))?;
        ctx.0.keeper().submit_verified(verified, unix_now()).map_err(submit_error)
    }));
    ok(m.register_method("zklink_blockNumber", |_, ctx, _| -> Result<BlockNumberView, ErrorObjectOwned> {
        let keeper = ctx.0.keeper();
        Ok(BlockNumberView { sealed: keeper.next_block_number() - 1, pending_chunks: keeper.pending_chunks() })
    }));
    ok(m.register_method("zklink_block", |params: Params, ctx, _| {
        let (n,): (u32,) = params.parse().map_err(|e| invalid("[number]", e))?;
        block(&ctx.0, n)
    }));
    m
}

/// Serves the API on `addr` (e.g. `127.0.0.1:0`).
pub async fn serve(addr: SocketAddr, node: NodeHandle, network: Network) -> Result<Api, ApiError> {
    let server = Server::builder().build(addr).await.map_err(|e| ApiError::Server(e.to_string()))?;
    let addr = server.local_addr().map_err(|e| ApiError::Server(e.to_string()))?;
    let handle = server.start(module(node, network));
    tracing::info!(%addr, "JSON-RPC API listening");
    Ok(Api { addr, handle })
}
