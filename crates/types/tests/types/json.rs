//! JSON forms: a submitted tx with a field it does not have is refused (naming the field) rather
//! than the field silently ignored; presets are camelCase and still read their old snake_case
//! names; the largest packable values are the ones docs/protocol.md §3 states.

use serde_json::{json, Value};
use zklink_types::*;

use crate::decoders::sample_txs;

/// Every sample tx, plus a ChangePubKey authorised by an EIP-712 signature.
fn txs() -> Vec<L2Tx> {
    let mut txs = sample_txs();
    let mut eth = txs.iter().find(|t| matches!(t, L2Tx::ChangePubKey(_))).cloned().unwrap();
    if let L2Tx::ChangePubKey(c) = &mut eth {
        c.auth = ChangePubKeyAuth::EthEcdsa { signature: [7; 65] };
    }
    txs.push(eth);
    txs
}

/// Where an extra field can hide in `tx`'s JSON: the tx itself, its signature, each order and
/// each order's signature, a ChangePubKey's auth.
fn objects(tx: &Value) -> Vec<Vec<&'static str>> {
    let mut at = vec![vec![], vec!["signature"]];
    for key in ["maker", "taker", "auth"] {
        if tx.get(key).is_some() {
            at.push(vec![key]);
        }
    }
    for key in ["maker", "taker"] {
        if tx.get(key).is_some() {
            at.push(vec![key, "signature"]);
        }
    }
    at
}

#[test]
fn an_unknown_field_anywhere_in_a_tx_is_refused_by_name() {
    for tx in txs() {
        let json = serde_json::to_value(&tx).unwrap();
        assert_eq!(serde_json::from_value::<L2Tx>(json.clone()).unwrap(), tx);
        for path in objects(&json) {
            let mut bad = json.clone();
            let mut obj = &mut bad;
            for key in &path {
                obj = &mut obj[*key];
            }
            obj.as_object_mut().unwrap().insert("memo".into(), json!("hello"));
            let err = serde_json::from_value::<L2Tx>(bad.clone()).unwrap_err().to_string();
            assert!(err.contains("unknown field `memo`"), "{} at {path:?}: {err}", tx.kind());
            // The same from text, as the API reads it.
            let err = serde_json::from_str::<L2Tx>(&bad.to_string()).unwrap_err().to_string();
            assert!(err.contains("unknown field `memo`"), "{} at {path:?}: {err}", tx.kind());
        }
    }
}

#[test]
fn a_misspelt_field_is_named_not_defaulted() {
    let tx = &sample_txs()[1];
    assert_eq!(tx.kind(), "Withdraw");
    let mut json = serde_json::to_value(tx).unwrap();
    let ratio = json.as_object_mut().unwrap().remove("fastWithdrawFeeRatio").unwrap();
    json["fast_withdraw_fee_ratio"] = ratio;
    let err = serde_json::from_value::<L2Tx>(json).unwrap_err().to_string();
    assert!(err.contains("unknown field `fast_withdraw_fee_ratio`"), "{err}");
}

#[test]
fn change_pubkey_auth_tags_are_as_documented() {
    assert_eq!(serde_json::to_value(ChangePubKeyAuth::Onchain).unwrap(), json!({"type": "onchain"}));
    let eth = ChangePubKeyAuth::EthEcdsa { signature: [0xab; 65] };
    assert_eq!(
        serde_json::to_value(&eth).unwrap(),
        json!({"type": "ethEcdsa", "signature": format!("0x{}", "ab".repeat(65))})
    );
    assert_eq!(
        serde_json::from_value::<ChangePubKeyAuth>(json!({"type": "onchain"})).unwrap(),
        ChangePubKeyAuth::Onchain
    );
    for bad in [
        json!({"type": "Onchain"}),
        json!({"type": "onchain", "signature": "0x00"}),
        json!({"type": "ethEcdsa"}),
        json!({"type": "ethEcdsa", "signature": "0x00"}),
    ] {
        assert!(serde_json::from_value::<ChangePubKeyAuth>(bad.clone()).is_err(), "{bad}");
    }
}

#[test]
fn preset_json_is_camel_case_and_reads_the_old_snake_case_names() {
    let json = serde_json::to_value(Preset::main()).unwrap();
    assert_eq!(
        json,
        json!({
            "name": "main",
            "accountBits": 24,
            "subAccountBits": 5,
            "tokenBits": 16,
            "slotBits": 16,
            "blockChunkSizes": [16, 64, 256],
            "onchainPeriod": 8
        })
    );
    let old = json!({
        "name": "dev",
        "account_bits": 6,
        "sub_account_bits": 2,
        "token_bits": 6,
        "slot_bits": 2,
        "block_chunk_sizes": [4, 16]
    });
    // Files written before `onchainPeriod` existed get the named preset's.
    assert_eq!(serde_json::from_value::<Preset>(old.clone()).unwrap(), Preset::dev());
    // A network file written before (devnet.json, network.json, a node configuration).
    let mut network = serde_json::to_value(Network::dev(3)).unwrap();
    network["preset"] = old;
    assert_eq!(serde_json::from_value::<Network>(network).unwrap(), Network::dev(3));
}

#[test]
fn largest_packable_values_are_as_documented() {
    // docs/protocol.md §3: amounts 34028236692 · 10^28, fees 2047 · 10^31.
    let amount_max = 34_028_236_692 * 10u128.pow(28);
    let fee_max = 2047 * 10u128.pow(31);
    for (f, max) in [(AMOUNT_FLOAT, amount_max), (FEE_FLOAT, fee_max)] {
        assert!(f.is_packable(max));
        assert_eq!(f.round_down(u128::MAX), max);
        assert_eq!(f.round_up(max + 1), None, "nothing larger fits a u128");
        assert_eq!(f.unpack(&f.pack(max).unwrap()).unwrap(), max);
    }
    assert_eq!(amount_max.to_string(), "340282366920000000000000000000000000000");
    assert_eq!(fee_max.to_string(), "20470000000000000000000000000000000");
    // The fee's all-ones encoding (m = 2047, e = 31) is its largest value; the amount's
    // (m = 2^35 − 1, e = 31) exceeds u128.
    assert_eq!(FEE_FLOAT.unpack(&[0xff, 0xff]).unwrap(), fee_max);
    assert!(AMOUNT_FLOAT.unpack(&[0xff; 5]).is_err());
    assert_eq!(AMOUNT_FLOAT.pack(amount_max).unwrap(), ((34_028_236_692u64 << 5) | 28).to_be_bytes()[3..].to_vec());
    let spec = include_str!("../../../../docs/protocol.md");
    for stated in [
        "`34028236692·10^28` = 340282366920000000000000000000000000000",
        "`2047·10^31` = 20470000000000000000000000000000000",
    ] {
        assert!(spec.contains(stated), "docs/protocol.md §3 should state {stated}");
    }
}
