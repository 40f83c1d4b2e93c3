//! The compiled contracts, embedded at build time from `contracts/artifacts/` (see
//! `tools/l1/compile.js`: solc 0.8.37, optimizer on with 200 runs, EVM version cancun).

use alloy::json_abi::JsonAbi;
use alloy::primitives::Bytes;
use serde::Deserialize;

/// The embedded artifact and source of each contract, by name.
macro_rules! contract_files {
    ($($json:ident, $source:ident, $name:literal;)*) => {
        $(
            #[doc = concat!("`contracts/artifacts/", $name, ".json` as committed.")]
            pub const $json: &str = include_str!(concat!("../../../contracts/artifacts/", $name, ".json"));
            #[doc = concat!("`contracts/src/", $name, ".sol`, the source the artifact must have been compiled from.")]
            pub const $source: &str = include_str!(concat!("../../../contracts/src/", $name, ".sol"));
        )*
        /// Every embedded artifact with its source: (contract name, artifact JSON, source).
        pub const ALL: [(&str, &str, &str); [$($name),*].len()] = [$(($name, $json, $source)),*];
    };
}

contract_files! {
    GROTH16_VERIFIER_JSON, GROTH16_VERIFIER_SOURCE, "Groth16Verifier";
    ZKLINK_JSON, ZKLINK_SOURCE, "ZkLink";
    ZKLINK_PERIPHERY_JSON, ZKLINK_PERIPHERY_SOURCE, "ZkLinkPeriphery";
    ZKLINK_PROXY_JSON, ZKLINK_PROXY_SOURCE, "ZkLinkProxy";
    TIMELOCK_JSON, TIMELOCK_SOURCE, "Timelock";
    TEST_TOKEN_JSON, TEST_TOKEN_SOURCE, "TestToken";
}

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
    /// even where node is not installed. Only each contract's own file is hashed: an edit of
    /// ZkLinkBase.sol alone is caught by `compile.js --check` (the test command runs it).
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
