//! The anvil helper: several instances side by side, and startup failures reported with anvil's
//! own message. Skips when the pinned anvil is missing outside CI (in CI that fails).

use alloy::providers::Provider;
use zklink_contracts::anvil::{anvil_binary, Anvil, AnvilError};

fn binary() -> Option<std::path::PathBuf> {
    match anvil_binary() {
        Ok(path) => Some(path),
        Err(e) => {
            assert!(std::env::var("CI").as_deref() != Ok("true"), "CI must have the pinned anvil: {e}");
            eprintln!("SKIPPING the anvil helper tests: {e}");
            None
        }
    }
}

#[tokio::test(flavor = "current_thread")]
async fn two_chains_side_by_side() {
    if binary().is_none() {
        return;
    }
    let (a, b) = (Anvil::spawn(101).unwrap(), Anvil::spawn(202).unwrap());
    assert_ne!(a.port(), b.port());
    assert_eq!(a.keys().len(), 10, "anvil's default dev accounts");
    for (anvil, id) in [(&a, 101), (&b, 202)] {
        assert_eq!(anvil.chain_id(), id);
        assert!(anvil.endpoint().starts_with("http://127.0.0.1:"));
        let provider = anvil.provider(0).unwrap();
        assert_eq!(provider.get_chain_id().await.unwrap(), id);
        assert!(provider.get_balance(anvil.address(0).unwrap()).await.unwrap() > alloy::primitives::U256::ZERO);
    }
    assert!(a.signer(10).is_none());
}

#[test]
fn a_failed_start_is_an_error_with_anvil_stderr() {
    let Some(path) = binary() else { return };
    let err = Anvil::spawn_with(&path, 1, &["--no-such-flag"]).unwrap_err();
    assert!(matches!(&err, AnvilError::Startup { stderr, .. } if stderr.contains("no-such-flag")), "{err}");
}
