//! The venue's view of a node: its JSON-RPC API (docs/api.md), nothing else.

use jsonrpsee::core::client::ClientT;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use jsonrpsee::rpc_params;
use zklink_types::api::{AccountView, FeeView, SubmitTxsView, TxStatusView};
use zklink_types::{AccountId, Address, L2Tx, Network, TokenId, TxHash};

/// `zklink_submitTx`'s code for a tx the node has accepted before (docs/api.md).
pub(crate) const TX_DUPLICATE: i32 = -32002;

/// Why a call to the node failed.
#[derive(thiserror::Error, Debug)]
pub enum NodeError {
    /// The node answered with an error.
    #[error("the node refused {method}: {message} (code {code})")]
    Refused {
        /// The method.
        method: &'static str,
        /// JSON-RPC code.
        code: i32,
        /// Its message.
        message: String,
    },
    /// The node could not be reached or answered nonsense.
    #[error("calling the node's {method}: {source}")]
    Transport {
        /// The method.
        method: &'static str,
        /// Why.
        #[source]
        source: jsonrpsee::core::client::Error,
    },
}

/// A client of one node's API.
#[derive(Clone, Debug)]
pub struct NodeClient {
    api: HttpClient,
    url: String,
}

fn call_error(method: &'static str) -> impl FnOnce(jsonrpsee::core::client::Error) -> NodeError {
    move |e| match e {
        jsonrpsee::core::client::Error::Call(obj) => {
            NodeError::Refused { method, code: obj.code(), message: obj.message().to_string() }
        }
        source => NodeError::Transport { method, source },
    }
}

impl NodeClient {
    /// A client of the API at `url` (`http://127.0.0.1:3030`).
    pub fn new(url: &str) -> Result<NodeClient, NodeError> {
        let api = HttpClientBuilder::default()
            .max_request_size(64 * 1024 * 1024)
            .max_response_size(64 * 1024 * 1024)
            .request_timeout(std::time::Duration::from_secs(60))
            .build(url)
            .map_err(|source| NodeError::Transport { method: "connect", source })?;
        Ok(NodeClient { api, url: url.to_string() })
    }

    /// The URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// `zklink_network`.
    pub async fn network(&self) -> Result<Network, NodeError> {
        self.api.request("zklink_network", rpc_params![]).await.map_err(call_error("zklink_network"))
    }

    /// `zklink_account [id]` in the latest state.
    pub async fn account(&self, id: AccountId) -> Result<Option<AccountView>, NodeError> {
        self.api.request("zklink_account", rpc_params![id.0]).await.map_err(call_error("zklink_account"))
    }

    /// `zklink_account [address]` in the latest state.
    pub async fn account_by_address(&self, address: Address) -> Result<Option<AccountView>, NodeError> {
        self.api.request("zklink_account", rpc_params![address]).await.map_err(call_error("zklink_account"))
    }

    /// `zklink_submitTx [tx]`: the tx's hash once the node has it durably.
    pub async fn submit_tx(&self, tx: &L2Tx) -> Result<TxHash, NodeError> {
        self.api.request("zklink_submitTx", rpc_params![tx]).await.map_err(call_error("zklink_submitTx"))
    }

    /// `zklink_submitTxs [txs]`.
    pub async fn submit_txs(&self, txs: &[L2Tx]) -> Result<SubmitTxsView, NodeError> {
        self.api.request("zklink_submitTxs", rpc_params![txs]).await.map_err(call_error("zklink_submitTxs"))
    }

    /// `zklink_txStatus [hash]`.
    pub async fn tx_status(&self, hash: TxHash) -> Result<Option<TxStatusView>, NodeError> {
        self.api.request("zklink_txStatus", rpc_params![hash]).await.map_err(call_error("zklink_txStatus"))
    }

    /// `zklink_estimateFee ["OrderMatching", token]`, L2 units.
    pub async fn order_matching_fee(&self, token: TokenId) -> Result<u128, NodeError> {
        let f: FeeView = self
            .api
            .request("zklink_estimateFee", rpc_params!["OrderMatching", token.0])
            .await
            .map_err(call_error("zklink_estimateFee"))?;
        Ok(f.fee.parse().unwrap_or(u128::MAX))
    }
}
