//! Network presets (tree depths and limits) and the network configuration (chains, tokens).

use alloy_primitives::Address;
use serde::{Deserialize, Serialize};

use crate::error::TxError;
use crate::ids::{AccountId, ChainId, SlotId, SubAccountId, TokenId, MAX_CHAIN_ID};

/// Every depth and limit that depends on the network size. Trees are 4-ary: a tree indexed
/// by `bits` bits has `ceil(bits / 2)` levels.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preset {
    pub name: String,
    /// Account ids are `0 .. 2^account_bits`.
    pub account_bits: u32,
    /// Sub-accounts are `0 .. 2^sub_account_bits`; also bounds the chain ids (account 1's sub-accounts).
    pub sub_account_bits: u32,
    /// Token ids are `0 .. 2^token_bits` (at least 6 bits: ids up to 32 are protocol-reserved).
    pub token_bits: u32,
    /// Order slots per sub-account are `0 .. 2^slot_bits`.
    pub slot_bits: u32,
    /// The block sizes (in chunks) a circuit exists for, ascending.
    pub block_chunk_sizes: Vec<usize>,
}

impl Preset {
    /// Production sizes: 2^24 accounts, 32 sub-accounts, 2^16 tokens, 2^16 order slots.
    pub fn main() -> Self {
        Self {
            name: "main".into(),
            account_bits: 24,
            sub_account_bits: 5,
            token_bits: 16,
            slot_bits: 16,
            block_chunk_sizes: vec![16, 64, 256],
        }
    }

    /// Tiny trees for tests and small circuits: 64 accounts, 4 sub-accounts (chains 1..=3),
    /// 64 tokens, 4 order slots.
    pub fn dev() -> Self {
        Self {
            name: "dev".into(),
            account_bits: 6,
            sub_account_bits: 2,
            token_bits: 6,
            slot_bits: 2,
            block_chunk_sizes: vec![4, 16],
        }
    }

    pub fn by_name(name: &str) -> Option<Self> {
        match name {
            "main" => Some(Self::main()),
            "dev" => Some(Self::dev()),
            _ => None,
        }
    }

    pub fn account_levels(&self) -> u32 {
        self.account_bits.div_ceil(2)
    }
    /// Balance leaf index = sub_account · 2^token_bits + token.
    pub fn balance_levels(&self) -> u32 {
        (self.sub_account_bits + self.token_bits).div_ceil(2)
    }
    /// Order-slot leaf index = sub_account · 2^slot_bits + slot.
    pub fn order_levels(&self) -> u32 {
        (self.sub_account_bits + self.slot_bits).div_ceil(2)
    }
    pub fn max_account_id(&self) -> u32 {
        ((1u64 << self.account_bits) - 1) as u32
    }
    pub fn max_sub_account(&self) -> u8 {
        ((1u32 << self.sub_account_bits) - 1) as u8
    }
    pub fn max_token_id(&self) -> u16 {
        ((1u32 << self.token_bits) - 1) as u16
    }
    pub fn max_slot(&self) -> u16 {
        ((1u32 << self.slot_bits) - 1) as u16
    }
    pub fn max_chain_id(&self) -> u8 {
        self.max_sub_account().min(MAX_CHAIN_ID)
    }
    pub fn max_block_chunks(&self) -> usize {
        self.block_chunk_sizes.last().copied().unwrap_or(0)
    }

    pub fn balance_index(&self, sub: SubAccountId, token: TokenId) -> u64 {
        ((sub.0 as u64) << self.token_bits) | token.0 as u64
    }
    /// (sub-account, token) of a balance leaf index: the inverse of [`Self::balance_index`].
    pub fn split_balance_index(&self, index: u64) -> (SubAccountId, TokenId) {
        let token = (index & u64::from(self.max_token_id())) as u16;
        (SubAccountId((index >> self.token_bits) as u8), TokenId(token))
    }
    pub fn order_index(&self, sub: SubAccountId, slot: SlotId) -> u64 {
        ((sub.0 as u64) << self.slot_bits) | slot.0 as u64
    }

    pub fn check_account(&self, account: AccountId) -> Result<(), TxError> {
        if account.0 > self.max_account_id() {
            return Err(TxError::AccountIdOutOfRange { account, max: self.max_account_id() });
        }
        Ok(())
    }
    pub fn check_sub_account(&self, sub: SubAccountId) -> Result<(), TxError> {
        if sub.0 > self.max_sub_account() {
            return Err(TxError::SubAccountOutOfRange { sub, max: self.max_sub_account() });
        }
        Ok(())
    }
    pub fn check_token(&self, token: TokenId) -> Result<(), TxError> {
        if token.0 > self.max_token_id() {
            return Err(TxError::TokenOutOfRange { token, max: self.max_token_id() });
        }
        Ok(())
    }
    pub fn check_slot(&self, slot: SlotId) -> Result<(), TxError> {
        if slot.0 > self.max_slot() {
            return Err(TxError::SlotOutOfRange { slot, max: self.max_slot() });
        }
        Ok(())
    }

    /// Checks the preset itself: the protocol's token ranges and chain ids must fit.
    pub fn validate(&self) -> Result<(), String> {
        if self.token_bits < 6 || self.token_bits > 16 {
            return Err(format!(
                "token_bits must be 6..=16 (token ids up to 32 are reserved), got {}",
                self.token_bits
            ));
        }
        if self.account_bits < 2 || self.account_bits > 32 {
            return Err(format!("account_bits must be 2..=32, got {}", self.account_bits));
        }
        if self.sub_account_bits < 1 || self.sub_account_bits > 5 {
            return Err(format!(
                "sub_account_bits must be 1..=5 (chain ids are at most 31), got {}",
                self.sub_account_bits
            ));
        }
        if self.slot_bits > 16 {
            return Err(format!("slot_bits must be at most 16, got {}", self.slot_bits));
        }
        if self.block_chunk_sizes.is_empty() || !self.block_chunk_sizes.windows(2).all(|w| w[0] < w[1]) {
            return Err("block_chunk_sizes must be non-empty and strictly ascending".into());
        }
        Ok(())
    }
}

/// One connected L1 chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChainInfo {
    pub id: ChainId,
    /// EVM chain id (EIP-155), used in EIP-712 domains.
    pub l1_chain_id: u64,
    /// The zklink contract on that chain (EIP-712 verifying contract).
    pub contract: Address,
    /// Whether this chain receives the full pubdata of every block.
    pub data_availability: bool,
}

/// A token as listed on one chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenOnChain {
    pub chain: ChainId,
    pub address: Address,
    /// L1 decimals; L2 amounts always have 18.
    pub decimals: u8,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenInfo {
    pub id: TokenId,
    pub symbol: String,
    pub chains: Vec<TokenOnChain>,
}

/// Everything the executor needs to know about the network it runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Network {
    /// Distinguishes deployments in signed L1 messages (oracle attestations, key derivation).
    pub network_id: u32,
    pub name: String,
    pub preset: Preset,
    /// Connected chains, ids 1..=n in order: the commitment carries one rolling hash per chain.
    pub chains: Vec<ChainInfo>,
    pub tokens: Vec<TokenInfo>,
}

impl Network {
    pub fn validate(&self) -> Result<(), String> {
        self.preset.validate()?;
        if self.chains.is_empty() {
            return Err("at least one chain must be connected".into());
        }
        for (i, c) in self.chains.iter().enumerate() {
            if c.id.0 as usize != i + 1 {
                return Err(format!("chains must be numbered 1..=n in order; entry {i} has id {}", c.id));
            }
        }
        if self.chains.len() > self.preset.max_chain_id() as usize {
            return Err(format!(
                "preset {} supports at most {} chains, {} configured",
                self.preset.name,
                self.preset.max_chain_id(),
                self.chains.len()
            ));
        }
        if !self.chains.iter().any(|c| c.data_availability) {
            return Err("at least one chain must be a data-availability chain".into());
        }
        for t in &self.tokens {
            t.id.check_user_token().map_err(|e| e.to_string())?;
            if t.id.0 == 1 {
                return Err("USD (1) is L2-only and cannot be listed on a chain".into());
            }
            self.preset.check_token(t.id).map_err(|e| e.to_string())?;
            for tc in &t.chains {
                if self.chain(tc.chain).is_none() {
                    return Err(format!("token {} is listed on unknown chain {}", t.id, tc.chain));
                }
                if tc.decimals > 18 {
                    return Err(format!(
                        "token {} on chain {} has {} decimals; at most 18 supported",
                        t.id, tc.chain, tc.decimals
                    ));
                }
            }
        }
        Ok(())
    }

    pub fn chain(&self, id: ChainId) -> Option<&ChainInfo> {
        self.chains.get((id.0 as usize).wrapping_sub(1)).filter(|c| c.id == id)
    }

    pub fn check_chain(&self, id: ChainId) -> Result<&ChainInfo, TxError> {
        id.check_range()?;
        self.chain(id).ok_or(TxError::InvalidChain { chain: id, reason: "not connected to this network" })
    }

    pub fn token_on_chain(&self, token: TokenId, chain: ChainId) -> Result<&TokenOnChain, TxError> {
        self.tokens
            .iter()
            .find(|t| t.id == token)
            .and_then(|t| t.chains.iter().find(|c| c.chain == chain))
            .ok_or(TxError::TokenNotOnChain { token, chain })
    }

    /// A small network on the `dev` preset with `chains` chains, for tests: tokens 17 (USDC-like,
    /// 6 decimals), 18 (USDT-like, 18 decimals) and 32 (an 18-decimal ERC-20) on every chain.
    pub fn dev(chains: u8) -> Self {
        let chain_infos: Vec<ChainInfo> = (1..=chains)
            .map(|i| ChainInfo {
                id: ChainId(i),
                l1_chain_id: 31337 + i as u64,
                contract: Address::with_last_byte(0x10 + i),
                data_availability: i == 1,
            })
            .collect();
        let token = |id: u16, symbol: &str, decimals: u8| TokenInfo {
            id: TokenId(id),
            symbol: symbol.into(),
            chains: (1..=chains)
                .map(|c| TokenOnChain { chain: ChainId(c), address: Address::with_last_byte(0x80 + c), decimals })
                .collect(),
        };
        Self {
            network_id: 1,
            name: "zklink-dev".into(),
            preset: Preset::dev(),
            chains: chain_infos,
            tokens: vec![token(17, "USDC", 6), token(18, "USDT", 18), token(32, "WETH", 18)],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_valid() {
        for p in [Preset::main(), Preset::dev()] {
            p.validate().unwrap();
        }
        let m = Preset::main();
        assert_eq!(m.account_levels(), 12);
        assert_eq!(m.balance_levels(), 11);
        assert_eq!(m.order_levels(), 11);
        assert_eq!(m.max_account_id(), (1 << 24) - 1);
        assert_eq!(m.max_chain_id(), 31);
        let d = Preset::dev();
        assert_eq!((d.account_levels(), d.balance_levels(), d.order_levels()), (3, 4, 2));
        assert_eq!(d.max_chain_id(), 3);
        Network::dev(3).validate().unwrap();
        assert!(Network::dev(4).validate().is_err());
    }

    #[test]
    fn index_layout() {
        let m = Preset::main();
        assert_eq!(m.balance_index(SubAccountId(1), TokenId(3)), 65536 + 3);
        assert_eq!(m.split_balance_index(65536 + 3), (SubAccountId(1), TokenId(3)));
        assert_eq!(m.order_index(SubAccountId(2), SlotId(1)), 2 * 65536 + 1);
    }
}
