//! Identifiers. Each is a thin newtype so that an account id can never be passed where a
//! token id is expected. What token ids denote is in [`crate::token`]; range checks fixed by
//! the protocol are in [`crate::ranges`], and those that depend on the network preset (tree
//! depths) in [`crate::Preset`].

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $inner:ty) => {
        $(#[$doc])*
        #[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub $inner);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl From<$inner> for $name {
            fn from(v: $inner) -> Self {
                Self(v)
            }
        }
    };
}

id_type!(
    /// Index of an account leaf in the account tree.
    AccountId, u32
);
id_type!(
    /// Index of a sub-account inside an account (for account 1: the chain id).
    SubAccountId, u8
);
id_type!(
    /// L2 token id; the same asset on every chain has one id.
    TokenId, u16
);
id_type!(
    /// zklink chain id of a connected L1 (1..=31), not the EVM chain id.
    ChainId, u8
);
id_type!(
    /// Order slot inside a sub-account.
    SlotId, u16
);
id_type!(
    /// Account nonce: every L2 tx signed by the account must carry the current value.
    Nonce, u32
);
id_type!(
    /// 24-bit nonce of an order slot.
    OrderNonce, u32
);
id_type!(
    /// Serial id of a priority request in one chain's L1 queue.
    SerialId, u64
);
id_type!(
    /// Height of an L2 block; block 0 is genesis.
    BlockNumber, u32
);

/// Account 0 collects every network fee.
pub const FEE_ACCOUNT_ID: AccountId = AccountId(0);
/// Account 1 records the per-chain reserves: its sub-account index is the chain id.
pub const GLOBAL_ASSET_ACCOUNT_ID: AccountId = AccountId(1);
/// First account id handed to users.
pub const FIRST_USER_ACCOUNT_ID: AccountId = AccountId(2);

/// Largest zklink chain id the protocol allows (chain ids are 5-bit sub-account indices of account 1).
pub const MAX_CHAIN_ID: u8 = 31;
/// Order nonces are 24-bit.
pub const MAX_ORDER_NONCE: u32 = (1 << 24) - 1;

impl ChainId {
    /// Account 1's sub-account that records this chain's reserves.
    pub fn as_sub_account(self) -> SubAccountId {
        SubAccountId(self.0)
    }
}
