//! Cross-checks against independent JavaScript implementations.
//!
//! * `tools/vectors/circomlib.json` (committed; regenerate with `node tools/vectors/gen.js`)
//!   holds circomlibjs 0.1.7 Poseidon outputs, public keys and signatures, and ethers 6
//!   personal_sign / EIP-712 vectors. These tests need no node.
//! * `our_signatures_verify_in_circomlibjs` hands freshly made signatures to
//!   `node tools/vectors/verify.js`. Without node or `tools/vectors/node_modules` it prints a skip
//!   message — unless `CI=true`, where it fails (CI runs `npm ci --prefix tools/vectors` first).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;

use ark_ff::PrimeField;
use serde_json::{json, Value};
use zklink_crypto::eddsa::{PrivateKey, PubKeyHash, PublicKey, Signature};
use zklink_crypto::l1::{self, L1Domain};
use zklink_crypto::{poseidon, sha256, Fr};

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/vectors")
}

fn vectors() -> Value {
    let path = vectors_dir().join("circomlib.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).expect("circomlib.json is valid JSON")
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("expected a string, got {v}"))
}

fn fr(v: &Value) -> Fr {
    Fr::from_str(s(v)).unwrap_or_else(|_| panic!("not a field element: {v}"))
}

fn arr(v: &Value) -> &Vec<Value> {
    v.as_array().unwrap_or_else(|| panic!("expected an array, got {v}"))
}

fn bytes<const N: usize>(v: &Value) -> [u8; N] {
    let mut out = [0u8; N];
    hex::decode_to_slice(s(v).trim_start_matches("0x"), &mut out)
        .unwrap_or_else(|e| panic!("expected {N} bytes of hex in {v}: {e}"));
    out
}

#[test]
fn poseidon_matches_circomlibjs() {
    let v = vectors();
    let cases = arr(&v["poseidon"]);
    assert!(cases.len() >= 30);
    let mut arities = std::collections::BTreeSet::new();
    for case in cases {
        let inputs: Vec<Fr> = arr(&case["inputs"]).iter().map(fr).collect();
        arities.insert(inputs.len());
        assert_eq!(poseidon::hash(&inputs).unwrap(), fr(&case["output"]), "poseidon({inputs:?})");
        match inputs.len() {
            2 => assert_eq!(poseidon::hash2(inputs[0], inputs[1]), fr(&case["output"])),
            4 => assert_eq!(poseidon::hash4(&[inputs[0], inputs[1], inputs[2], inputs[3]]), fr(&case["output"])),
            5 => assert_eq!(
                poseidon::hash5(&[inputs[0], inputs[1], inputs[2], inputs[3], inputs[4]]),
                fr(&case["output"])
            ),
            _ => {}
        }
    }
    assert_eq!(arities.into_iter().collect::<Vec<_>>(), vec![1, 2, 3, 4, 5, 6, 12]);
    // The well-known value (circomlibjs / light-poseidon).
    assert_eq!(
        poseidon::hash2(Fr::from(1u64), Fr::from(2u64)),
        Fr::from_str("7853200120776062878684798364095072458815029376092732009249414926327459813530").unwrap()
    );
}

#[test]
fn hash_bytes_matches_js_reference() {
    let v = vectors();
    for case in arr(&v["hash_bytes"]) {
        let data = hex::decode(s(&case["bytes"])).unwrap();
        let fields: Vec<Fr> = arr(&case["fields"]).iter().map(fr).collect();
        assert_eq!(poseidon::bytes_to_fields(&data), fields, "{} bytes", data.len());
        assert_eq!(poseidon::hash_bytes(&data).unwrap(), fr(&case["hash"]));
    }
}

#[test]
fn public_keys_match_circomlibjs() {
    let v = vectors();
    let keys = arr(&v["keys"]);
    assert_eq!(keys.len(), 3);
    for k in keys {
        let sk = PrivateKey::from_bytes(bytes::<32>(&k["private_key"]));
        let pk = sk.public_key();
        let packed = bytes::<32>(&k["public_key_packed"]);
        assert_eq!(pk.to_packed(), packed, "packPoint(prv2pub({}))", k["private_key"]);
        assert_eq!(pk.x(), fr(&k["ax"]));
        assert_eq!(pk.y(), fr(&k["ay"]));
        assert_eq!(PublicKey::from_packed(&packed), Ok(pk));
        assert_eq!(pk.pubkey_hash(), PubKeyHash::from_str(s(&k["pubkey_hash"])).unwrap());
    }
}

#[test]
fn signatures_match_circomlibjs() {
    let v = vectors();
    let mut n = 0;
    for k in arr(&v["keys"]) {
        let sk = PrivateKey::from_bytes(bytes::<32>(&k["private_key"]));
        let pk = PublicKey::from_packed(&bytes::<32>(&k["public_key_packed"])).unwrap();
        for sig in arr(&k["signatures"]) {
            let msg = fr(&sig["msg"]);
            let packed = bytes::<64>(&sig["packed"]);
            let ours = sk.sign(msg);
            assert_eq!(
                hex::encode(ours.to_packed()),
                hex::encode(packed),
                "signPoseidon({}, {})",
                k["private_key"],
                sig["msg"]
            );
            assert_eq!(ours.r8(), (fr(&sig["r8x"]), fr(&sig["r8y"])));
            let s_int = num_bigint::BigUint::from_str(s(&sig["s"])).unwrap();
            let mut s_le = s_int.to_bytes_le();
            s_le.resize(32, 0);
            assert_eq!(ours.s().to_vec(), s_le);
            let theirs = Signature::from_packed(&packed).unwrap();
            assert_eq!(theirs, ours);
            assert_eq!(pk.verify(msg, &theirs), Ok(()));
            assert!(pk.verify(msg + Fr::from(1u64), &theirs).is_err());
            n += 1;
        }
    }
    assert_eq!(n, 6);
}

#[test]
fn l1_vectors_match_ethers() {
    let v = vectors();
    for case in arr(&v["l1"]) {
        let secret = k256::ecdsa::SigningKey::from_slice(&bytes::<32>(&case["secret"])).unwrap();
        let address = l1::Address::from_str(s(&case["address"])).unwrap();
        assert_eq!(l1::address_of(&secret), address);
        let network = s(&case["network"]);
        let message = l1::l2_key_message(network);
        assert_eq!(message, s(&case["message"]));
        let sig = l1::personal_sign(&secret, message.as_bytes());
        assert_eq!(hex::encode(sig), s(&case["personal_sign"]), "personal_sign differs from ethers");
        assert_eq!(l1::recover_personal_sign(message.as_bytes(), &sig), Ok(address));
        let l2 = l1::derive_l2_key(&secret, network);
        assert_eq!(hex::encode(l2.to_bytes()), s(&case["l2_private_key"]));
        assert_eq!(hex::encode(l2.public_key().to_packed()), s(&case["l2_public_key_packed"]));
    }
}

#[test]
fn eip712_vectors_match_ethers() {
    let v = vectors();
    let cases = arr(&v["eip712"]);
    assert!(!cases.is_empty());
    for case in cases {
        let domain = L1Domain {
            l1_chain_id: case["l1_chain_id"].as_u64().unwrap(),
            verifying_contract: l1::Address::from_str(s(&case["verifying_contract"])).unwrap(),
        };
        let pkh = PubKeyHash::from_str(s(&case["pubkey_hash"])).unwrap();
        let nonce = u32::try_from(case["nonce"].as_u64().unwrap()).unwrap();
        let account_id = u32::try_from(case["account_id"].as_u64().unwrap()).unwrap();
        assert_eq!(
            hex::encode(l1::change_pubkey_signing_hash(&domain, &pkh, nonce, account_id)),
            s(&case["signing_hash"])
        );
        let secret = k256::ecdsa::SigningKey::from_slice(&bytes::<32>(&case["signer_secret"])).unwrap();
        let sig = l1::sign_change_pubkey(&secret, &domain, &pkh, nonce, account_id);
        assert_eq!(hex::encode(sig), s(&case["signature"]));
        let signer = l1::Address::from_str(s(&case["signer_address"])).unwrap();
        assert_eq!(l1::recover_change_pubkey_signer(&domain, &pkh, nonce, account_id, &sig), Ok(signer));
        assert_ne!(
            l1::recover_change_pubkey_signer(&domain, &pkh, nonce.wrapping_add(1), account_id, &sig),
            Ok(signer)
        );
    }
}

/// Deterministic "fresh" inputs, different from everything in circomlib.json.
fn fresh(label: &str, i: u32) -> [u8; 32] {
    let mut data = label.as_bytes().to_vec();
    data.extend_from_slice(&i.to_be_bytes());
    sha256(&data)
}

#[test]
fn our_signatures_verify_in_circomlibjs() {
    let ci = std::env::var("CI").map(|v| v == "true").unwrap_or(false);
    let dir = vectors_dir();
    let node_ok = Command::new("node").arg("--version").output().map(|o| o.status.success()).unwrap_or(false);
    let modules_ok = dir.join("node_modules/circomlibjs/package.json").is_file();
    if !node_ok || !modules_ok {
        let why = if !node_ok {
            "`node` is not on PATH".to_string()
        } else {
            format!("{} is missing (run `npm ci --prefix tools/vectors`)", dir.join("node_modules").display())
        };
        if ci {
            panic!("CI=true but the circomlibjs cross-check cannot run: {why}");
        }
        eprintln!("SKIPPED our_signatures_verify_in_circomlibjs: {why}");
        return;
    }

    let mut items = Vec::new();
    for i in 0..24u32 {
        let sk = PrivateKey::from_bytes(fresh("key", i));
        let pk = sk.public_key();
        let msg = Fr::from_le_bytes_mod_order(&fresh("msg", i));
        let sig = sk.sign(msg);
        assert_eq!(pk.verify(msg, &sig), Ok(()));
        items.push(json!({
            "pubkey": hex::encode(pk.to_packed()),
            "msg": msg.into_bigint().to_string(),
            "signature": hex::encode(sig.to_packed()),
        }));
        // Every fourth: a tampered copy that circomlib must reject (guards against a verifier
        // that accepts everything).
        if i % 4 == 0 {
            items.push(json!({
                "pubkey": hex::encode(pk.to_packed()),
                "msg": (msg + Fr::from(1u64)).into_bigint().to_string(),
                "signature": hex::encode(sig.to_packed()),
                "expect_valid": false,
            }));
        }
    }
    // Keys derived from L1 signatures, as wallets will use them.
    for i in 1..=4u8 {
        let secret = k256::ecdsa::SigningKey::from_slice(&fresh("l1", u32::from(i))).unwrap();
        let sk = l1::derive_l2_key(&secret, "devnet");
        let msg = poseidon::hash_bytes(format!("transfer #{i}").as_bytes()).unwrap();
        let sig = sk.sign(msg);
        items.push(json!({
            "pubkey": hex::encode(sk.public_key().to_packed()),
            "msg": msg.into_bigint().to_string(),
            "signature": hex::encode(sig.to_packed()),
        }));
    }
    let expected = items.len();

    let file = std::env::temp_dir().join(format!(
        "zklink-crypto-verify-{}-{}.json",
        std::process::id(),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
    ));
    std::fs::write(&file, serde_json::to_vec_pretty(&items).unwrap()).unwrap();
    let out = Command::new("node").arg(dir.join("verify.js")).arg(&file).output().expect("run node");
    let _ = std::fs::remove_file(&file);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "circomlibjs rejected our signatures:\nstdout: {stdout}\nstderr: {stderr}");
    assert!(stdout.contains(&format!("{expected} passed, 0 failed")), "unexpected verify.js output: {stdout} {stderr}");
}
