//! Refusals in the user's terms: the API's rejection messages name tokens by symbol and amounts in
//! whole tokens (`zklink_api::messages`), and `zklink_l1Endpoints` publishes the configured L1
//! endpoints with each chain's EVM chain id.

use jsonrpsee::core::client::ClientT;
use jsonrpsee::http_client::HttpClientBuilder;
use jsonrpsee::rpc_params;
use serde_json::{json, Value};
use zklink_api::messages::{fee_error, tx_error, TxTokens};
use zklink_api::{codes, ApiConfig};
use zklink_executor::testkit::TestNet;
use zklink_node::FeeError;
use zklink_types::test_utils::E18;
use zklink_types::{AccountId, ChainId, Network, PriorityTx, SubAccountId, TokenId, TxError, TxHash};

#[test]
fn tx_errors_name_symbols_and_whole_tokens() {
    let network = Network::dev(3);
    let none = TxTokens::default();
    let reserve = TxError::InsufficientReserve {
        chain: ChainId(2),
        reserve: TokenId(2),
        available: 35 * E18 / 10,
        required: 10 * E18,
    };
    assert_eq!(
        tx_error(&reserve, &network, &none),
        "chain 2 holds only 3.5 USDC of reserve for USD withdrawals, cannot pay out 10 USDC"
    );
    let weth = TxError::InsufficientReserve { chain: ChainId(1), reserve: TokenId(32), available: 0, required: E18 };
    assert_eq!(tx_error(&weth, &network, &none), "chain 1 holds only 0 WETH of reserve, cannot pay out 1 WETH");
    let balance = TxError::InsufficientBalance {
        account: AccountId(5),
        sub: SubAccountId(0),
        token: TokenId(1),
        available: E18 / 4,
        required: 2 * E18,
    };
    assert_eq!(
        tx_error(&balance, &network, &none),
        "insufficient balance: account 5 sub-account 0 has 0.25 USD, needs 2 USD"
    );
    // 1.000000000001 USDT: 13 significant digits do not fit the 35-bit mantissa.
    let value = E18 + 1_000_000;
    let packing = zklink_types::AMOUNT_FLOAT.pack(value).unwrap_err();
    let tokens = TxTokens { amount: Some(TokenId(18)), ..TxTokens::default() };
    let text = tx_error(&packing, &network, &tokens);
    assert_eq!(
        text,
        "the amount 1.000000000001 USDT cannot be packed (35-bit mantissa, 5-bit exponent): the nearest \
         packable amounts are 1 USDT and 1.0000000001 USDT"
    );
    assert!(!text.contains("round_") && !text.contains("a amount"), "{text}");
    let not_listed = TxError::TokenNotOnChain { token: TokenId(17), chain: ChainId(3) };
    assert_eq!(tx_error(&not_listed, &network, &none), "USDC (token 17) is not listed on chain 3");
    let fee = FeeError::TooLow { kind: "Transfer", required: 2 * E18 / 1000, offered: 0 };
    assert_eq!(fee_error(&fee, &network), "the fee 0 USD is below the 0.002 USD a Transfer must pay");
    assert_eq!(
        fee_error(&FeeError::Token(17), &network),
        "fees are paid in USD (token 1) on this node, not in USDC (token 17)"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn the_api_publishes_l1_endpoints_and_explains_refusals() {
    let dir = tempfile::tempdir().unwrap();
    let (node, network) = crate::dev_node(dir.path());
    let cfg = ApiConfig {
        l1_endpoints: [(ChainId(2), "http://127.0.0.1:18546".to_string())].into_iter().collect(),
        ..ApiConfig::default()
    };
    let api = zklink_api::serve_with("127.0.0.1:0".parse().unwrap(), node.clone(), network.clone(), cfg).await.unwrap();
    let client = HttpClientBuilder::default().build(format!("http://{}", api.addr)).unwrap();

    let endpoints: Value = client.request("zklink_l1Endpoints", rpc_params![]).await.unwrap();
    assert_eq!(endpoints, json!([{ "chain": 2, "l1ChainId": 31339, "url": "http://127.0.0.1:18546" }]));

    // 100 USD from USDC on chain 1; a USD withdrawal as USDC on chain 2, which holds none.
    let mut mirror = TestNet::dev();
    let alice = mirror.user(0);
    let mut deposit = mirror.deposit_tx(1, alice.address, 0, 17, 1, 100 * E18);
    if let PriorityTx::Deposit(d) = &mut deposit {
        d.serial_id.0 = 0;
    }
    mirror.apply_priority(&deposit).unwrap();
    node.keeper().submit_priority(deposit, 1).unwrap();
    let cpk = mirror.change_pubkey_tx(&alice);
    mirror.apply_l2(cpk.clone()).unwrap();
    let _: TxHash = client.request("zklink_submitTx", rpc_params![cpk]).await.unwrap();
    let withdraw = mirror.withdraw_tx(&alice, 2, 1, 17, 10 * E18, 0, 0);
    let err = client.request::<TxHash, _>("zklink_submitTx", rpc_params![withdraw]).await.unwrap_err();
    let (code, message) = crate::refusal(err);
    assert_eq!(code, codes::TX_REJECTED);
    assert_eq!(message, "rejected: chain 2 holds only 0 USDC of reserve for USD withdrawals, cannot pay out 10 USDC");
    // An overdraft names USD and whole tokens.
    let overdraft = mirror.transfer_tx(&alice, mirror.user(1).address, 1, 1_000 * E18, 0);
    let (_, message) =
        crate::refusal(client.request::<TxHash, _>("zklink_submitTx", rpc_params![overdraft]).await.unwrap_err());
    assert!(message.ends_with("has 100 USD, needs 1000 USD"), "{message}");
    api.stop().await;
}
