//! The compiled contracts, embedded at build time from `contracts/artifacts/` (see
//! `tools/l1/compile.js`: solc 0.8.37, optimizer on with 200 runs, EVM version cancun).

use alloy::json_abi::JsonAbi;
use alloy::primitives::Bytes;
use serde::Deserialize;

/// `contracts/artifacts/Groth16Verifier.json` as committed.
pub const GROTH16_VERIFIER_JSON: &str = include_str!("../../../contracts/artifacts/Groth16Verifier.json");

/// `contracts/src/Groth16Verifier.sol`, the source the artifact must have been compiled from.
pub const GROTH16_VERIFIER_SOURCE: &str = include_str!("../../../contracts/src/Groth16Verifier.sol");

/// `contracts/artifacts/ZkLink.json` as committed.
pub const ZKLINK_JSON: &str = include_str!("../../../contracts/artifacts/ZkLink.json");

/// `contracts/src/ZkLink.sol`.
pub const ZKLINK_SOURCE: &str = include_str!("../../../contracts/src/ZkLink.sol");

/// `contracts/artifacts/TestToken.json` as committed.
pub const TEST_TOKEN_JSON: &str = include_str!("../../../contracts/artifacts/TestToken.json");

/// `contracts/src/TestToken.sol`.
pub const TEST_TOKEN_SOURCE: &str = include_str!("../../../contracts/src/TestToken.sol");

/// Every embedded artifact with its source: (contract name, artifact JSON, source).
pub const ALL: [(&str, &str, &str); 3] = [
    ("Groth16Verifier", GROTH16_VERIFIER_JSON, GROTH16_VERIFIER_SOURCE),
    ("ZkLink", ZKLINK_JSON, ZKLINK_SOURCE),
    ("TestToken", TEST_TOKEN_JSON, TEST_TOKEN_SOURCE),
];

/// The solc version every artifact is compiled with (pinned in `tools/l1/package.json`).
pub const SOLC_VERSION: &str = "0.8.37";

/// One compiled contract, as written by `tools/l1/compile.js`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Artifact {
    /// The contract's ABI.
    pub abi: JsonAbi,
    /// Creation code (constructor arguments are appended ABI-encoded).
    pub bytecode: Bytes,
    /// Runtime code, without the values of immutables (solc leaves zeros in their slots).
    pub deployed_bytecode: Bytes,
    /// The solc version that produced it.
    pub solc: String,
    /// Hex SHA-256 of the `.sol` file it was compiled from.
    pub source_sha256: String,
}

impl Artifact {
    /// Parses an artifact file's contents.
    pub fn from_json(json: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(json)
    }
}

/// The embedded `Groth16Verifier` artifact.
pub fn groth16_verifier() -> Artifact {
    // The embedded file is checked by this crate's tests; failing here is a build defect.
    Artifact::from_json(GROTH16_VERIFIER_JSON).expect("contracts/artifacts/Groth16Verifier.json is a valid artifact")
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    /// A stale artifact (source edited, `node tools/l1/compile.js` not rerun) fails `cargo test`
    /// even where node is not installed.
    #[test]
    fn artifacts_are_compiled_from_the_current_sources() {
        for (name, json, source) in ALL {
            let artifact = Artifact::from_json(json).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(
                artifact.source_sha256,
                hex::encode(Sha256::digest(source.as_bytes())),
                "contracts/artifacts/{name}.json is stale: run `node tools/l1/compile.js`"
            );
            assert_eq!(artifact.solc, SOLC_VERSION);
            assert!(source.contains(&format!("pragma solidity {SOLC_VERSION};")), "{name}");
            assert!(
                artifact.bytecode.len() > artifact.deployed_bytecode.len() && !artifact.deployed_bytecode.is_empty()
            );
            assert!(json.ends_with("}\n"), "artifacts end with one newline");
            // EIP-170: deployed code above 24,576 bytes cannot be deployed on mainnet chains.
            assert!(artifact.deployed_bytecode.len() <= 24_576, "{name} exceeds the EIP-170 code size limit");
        }
    }
}
