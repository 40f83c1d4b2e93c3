//! Network presets (tree depths and limits) and the network configuration (chains, tokens).

use alloy_primitives::Address;
use serde::{Deserialize, Serialize};

use crate::error::TxError;
use crate::ids::{AccountId, ChainId, SlotId, SubAccountId, TokenId, MAX_CHAIN_ID};

/// Every depth and limit that depends on the network size. Trees are 4-ary: a tree indexed
/// by `bits` bits has `ceil(bits / 2)` levels.
///
/// JSON fields are camelCase like the rest of the API (`accountBits`, …); the snake_case names
/// that files written before still use (`account_bits`, …) are read as aliases.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", from = "PresetFile")]
pub struct Preset {
    /// The preset's name (`main` or `dev`); circuit shapes and keys are named after it.
    pub name: String,
    /// Account ids are `0 .. 2^account_bits`.
    #[serde(alias = "account_bits")]
    pub account_bits: u32,
    /// Sub-accounts are `0 .. 2^sub_account_bits`; also bounds the chain ids (account 1's sub-accounts).
    #[serde(alias = "sub_account_bits")]
    pub sub_account_bits: u32,
    /// Token ids are `0 .. 2^token_bits` (at least 6 bits: ids up to 32 are protocol-reserved).
    #[serde(alias = "token_bits")]
    pub token_bits: u32,
    /// Order slots per sub-account are `0 .. 2^slot_bits`.
    #[serde(alias = "slot_bits")]
    pub slot_bits: u32,
    /// The block sizes (in chunks) a circuit exists for, ascending.
    #[serde(alias = "block_chunk_sizes")]
    pub block_chunk_sizes: Vec<usize>,
    /// On-chain ops (those with a chain byte) start only at chunks that are multiples of this
    /// period (≥ 2); Noop chunks pad the gap. The block circuit hashes the per-chain rolling
    /// hashes only at the first chunk of each period, not at every chunk (docs/protocol.md §8,
    /// §12). Files written before it existed get the named preset's period (`main` 8, else 2).
    pub onchain_period: usize,
}

/// [`Preset`] as files hold it: `onchainPeriod` may be missing (files written before it).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PresetFile {
    name: String,
    #[serde(alias = "account_bits")]
    account_bits: u32,
    #[serde(alias = "sub_account_bits")]
    sub_account_bits: u32,
    #[serde(alias = "token_bits")]
    token_bits: u32,
    #[serde(alias = "slot_bits")]
    slot_bits: u32,
    #[serde(alias = "block_chunk_sizes")]
    block_chunk_sizes: Vec<usize>,
    onchain_period: Option<usize>,
}

impl From<PresetFile> for Preset {
    fn from(f: PresetFile) -> Self {
        let onchain_period = f.onchain_period.unwrap_or(if f.name == "main" { 8 } else { 2 });
        Self {
            name: f.name,
            account_bits: f.account_bits,
            sub_account_bits: f.sub_account_bits,
            token_bits: f.token_bits,
            slot_bits: f.slot_bits,
            block_chunk_sizes: f.block_chunk_sizes,
            onchain_period,
        }
    }
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
            onchain_period: 8,
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
            onchain_period: 2,
        }
    }

    /// The preset called `name` (`main` or `dev`), if it exists.
    pub fn by_name(name: &str) -> Option<Self> {
        match name {
            "main" => Some(Self::main()),
            "dev" => Some(Self::dev()),
            _ => None,
        }
    }

    /// Levels of the 4-ary account tree: `⌈account_bits / 2⌉` (12 at `main`, 3 at `dev`).
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
    /// Largest account id, `2^account_bits − 1`.
    pub fn max_account_id(&self) -> u32 {
        ((1u64 << self.account_bits) - 1) as u32
    }
    /// Largest sub-account id, `2^sub_account_bits − 1`.
    pub fn max_sub_account(&self) -> u8 {
        ((1u32 << self.sub_account_bits) - 1) as u8
    }
    /// Largest token id, `2^token_bits − 1`.
    pub fn max_token_id(&self) -> u16 {
        ((1u32 << self.token_bits) - 1) as u16
    }
    /// Largest order slot id, `2^slot_bits − 1`.
    pub fn max_slot(&self) -> u16 {
        ((1u32 << self.slot_bits) - 1) as u16
    }
    /// Largest chain id: the largest sub-account id (a chain's reserves are account 1's
    /// sub-account), at most 31.
    pub fn max_chain_id(&self) -> u8 {
        self.max_sub_account().min(MAX_CHAIN_ID)
    }
    /// Credit slots of a block of `chunks` chunks: how many distinct balance leaves its ops may
    /// credit fees to ([`crate::op::Credit`]), `max(4, chunks / 8)`.
    pub fn credit_slots(&self, chunks: usize) -> usize {
        (chunks / 8).max(4)
    }
    /// Every how many chunks ops with op code `code` may start (docs/protocol.md §8): on-chain
    /// ops at multiples of [`Preset::onchain_period`], swaps at even chunks, pool creation and
    /// liquidity changes at multiples of 4 ([`crate::op::POOL_PERIOD`]), other ops anywhere. An op
    /// kind's rules cost constraints only where it may start (§12).
    pub fn start_period(&self, code: u8) -> usize {
        if crate::op::is_onchain_code(code) {
            self.onchain_period
        } else {
            crate::op::start_period_of(code)
        }
    }
    /// Noop chunks to put before an op that may start only at multiples of `period` and would
    /// start at chunk `at`.
    pub fn padding(&self, at: usize, period: usize) -> usize {
        at.next_multiple_of(period) - at
    }
    /// How many pools the preset allows: `2^(token_bits − 3)` (dev 8, main 8192), one LP token each.
    pub fn max_pools(&self) -> u16 {
        1 << (self.token_bits - 3)
    }
    /// The LP token ids, the top [`Preset::max_pools`] token ids: L2-only, never listed on a chain.
    pub fn lp_tokens(&self) -> std::ops::RangeInclusive<u16> {
        (self.max_token_id() - self.max_pools() + 1)..=self.max_token_id()
    }
    /// Whether `token` is an LP token id.
    pub fn is_lp_token(&self, token: TokenId) -> bool {
        self.lp_tokens().contains(&token.0)
    }
    /// Size in chunks of the largest block shape (0 if there is none).
    pub fn max_block_chunks(&self) -> usize {
        self.block_chunk_sizes.last().copied().unwrap_or(0)
    }

    /// Balance-tree leaf index of `(sub, token)`: `sub · 2^token_bits + token` (ids not range-checked).
    pub fn balance_index(&self, sub: SubAccountId, token: TokenId) -> u64 {
        ((sub.0 as u64) << self.token_bits) | token.0 as u64
    }
    /// (sub-account, token) of a balance leaf index: the inverse of [`Self::balance_index`].
    pub fn split_balance_index(&self, index: u64) -> (SubAccountId, TokenId) {
        let token = (index & u64::from(self.max_token_id())) as u16;
        (SubAccountId((index >> self.token_bits) as u8), TokenId(token))
    }
    /// Order-tree leaf index of `(sub, slot)`: `sub · 2^slot_bits + slot` (ids not range-checked).
    pub fn order_index(&self, sub: SubAccountId, slot: SlotId) -> u64 {
        ((sub.0 as u64) << self.slot_bits) | slot.0 as u64
    }

    /// [`TxError::AccountIdOutOfRange`] unless `account < 2^account_bits`.
    pub fn check_account(&self, account: AccountId) -> Result<(), TxError> {
        if account.0 > self.max_account_id() {
            return Err(TxError::AccountIdOutOfRange { account, max: self.max_account_id() });
        }
        Ok(())
    }
    /// [`TxError::SubAccountOutOfRange`] unless `sub < 2^sub_account_bits`.
    pub fn check_sub_account(&self, sub: SubAccountId) -> Result<(), TxError> {
        if sub.0 > self.max_sub_account() {
            return Err(TxError::SubAccountOutOfRange { sub, max: self.max_sub_account() });
        }
        Ok(())
    }
    /// [`TxError::TokenOutOfRange`] unless `token < 2^token_bits` (what the id denotes is not checked).
    pub fn check_token(&self, token: TokenId) -> Result<(), TxError> {
        if token.0 > self.max_token_id() {
            return Err(TxError::TokenOutOfRange { token, max: self.max_token_id() });
        }
        Ok(())
    }
    /// [`TxError::SlotOutOfRange`] unless `slot < 2^slot_bits`.
    pub fn check_slot(&self, slot: SlotId) -> Result<(), TxError> {
        if slot.0 > self.max_slot() {
            return Err(TxError::SlotOutOfRange { slot, max: self.max_slot() });
        }
        Ok(())
    }

    /// Checks the preset itself: the protocol's token ranges and chain ids must fit.
    pub fn validate(&self) -> Result<(), PresetError> {
        if self.token_bits < 6 || self.token_bits > 16 {
            return Err(PresetError::TokenBits(self.token_bits));
        }
        if self.account_bits < 2 || self.account_bits > 32 {
            return Err(PresetError::AccountBits(self.account_bits));
        }
        if self.sub_account_bits < 1 || self.sub_account_bits > 5 {
            return Err(PresetError::SubAccountBits(self.sub_account_bits));
        }
        if self.slot_bits > 16 {
            return Err(PresetError::SlotBits(self.slot_bits));
        }
        if self.block_chunk_sizes.is_empty() || !self.block_chunk_sizes.windows(2).all(|w| w[0] < w[1]) {
            return Err(PresetError::BlockChunkSizes);
        }
        if self.onchain_period < 2 || self.block_chunk_sizes[0] < self.onchain_period {
            return Err(PresetError::OnchainPeriod(self.onchain_period));
        }
        // Pool ops start at multiples of 4 and take up to 3 chunks: the smallest shape holds one.
        if self.block_chunk_sizes[0] < crate::op::POOL_PERIOD {
            return Err(PresetError::BlockChunkSizes);
        }
        Ok(())
    }
}

/// Why a [`Preset`] is not usable.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum PresetError {
    /// `onchain_period` is below 2 or above the smallest block size.
    #[error("onchainPeriod must be at least 2 and at most the smallest block size, got {0}")]
    OnchainPeriod(usize),
    /// `token_bits` is outside 6..=16 (the protocol's token ids need at least 6 bits).
    #[error("tokenBits must be 6..=16 (token ids up to 32 are reserved), got {0}")]
    TokenBits(u32),
    /// `account_bits` is outside 2..=32.
    #[error("accountBits must be 2..=32, got {0}")]
    AccountBits(u32),
    /// `sub_account_bits` is outside 1..=5.
    #[error("subAccountBits must be 1..=5 (chain ids are at most 31), got {0}")]
    SubAccountBits(u32),
    /// `slot_bits` is above 16.
    #[error("slotBits must be at most 16, got {0}")]
    SlotBits(u32),
    /// `block_chunk_sizes` is empty or not strictly ascending.
    #[error("blockChunkSizes must be non-empty and strictly ascending")]
    BlockChunkSizes,
}

/// Why a [`Network`] configuration is not usable.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum NetworkError {
    /// The preset is not valid.
    #[error(transparent)]
    Preset(#[from] PresetError),
    /// No chain is configured.
    #[error("at least one chain must be connected")]
    NoChains,
    /// The chains are not numbered 1..=n in list order.
    #[error("chains must be numbered 1..=n in order; entry {index} has id {id}")]
    ChainOrder {
        /// Position of the offending entry in the list (from 0).
        index: usize,
        /// The id it has (it should be `index + 1`).
        id: ChainId,
    },
    /// More chains than the preset's largest chain id.
    #[error("preset {preset} supports at most {max} chains, {configured} configured")]
    TooManyChains {
        /// The preset's name.
        preset: String,
        /// Its largest chain id.
        max: u8,
        /// Number of chains configured.
        configured: usize,
    },
    /// No chain is a data-availability chain, so no chain would receive the pubdata.
    #[error("at least one chain must be a data-availability chain")]
    NoDataAvailability,
    /// A listed token's id is reserved or out of the preset's range (the error names the token).
    #[error(transparent)]
    Token(TxError),
    /// USD (1) is listed as a token of a chain.
    #[error("USD (1) is L2-only and cannot be listed on a chain")]
    UsdListed,
    /// A token is listed on a chain the network does not connect.
    #[error("token {token} is listed on unknown chain {chain}")]
    UnknownChain {
        /// The token.
        token: TokenId,
        /// The chain it names.
        chain: ChainId,
    },
    /// A token has more than 18 L1 decimals on a chain (L2 amounts have 18).
    #[error("token {token} on chain {chain} has {decimals} decimals; at most 18 supported")]
    TooManyDecimals {
        /// The token.
        token: TokenId,
        /// The chain.
        chain: ChainId,
        /// Its decimals there.
        decimals: u8,
    },
}

/// One connected L1 chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChainInfo {
    /// The zklink chain id (1..=n), not the EVM one.
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
    /// The chain it is listed on.
    pub chain: ChainId,
    /// The token's contract on that chain; the zero address is the chain's native coin.
    pub address: Address,
    /// L1 decimals; L2 amounts always have 18.
    pub decimals: u8,
}

/// A token of the network and where it is listed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenInfo {
    /// Its id, the same on every chain: a stablecoin (17..=31) or another token (32 and above).
    pub id: TokenId,
    /// Display symbol, e.g. `USDC`.
    pub symbol: String,
    /// The chains it is listed on, with its contract and decimals on each.
    pub chains: Vec<TokenOnChain>,
}

/// Everything the executor needs to know about the network it runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Network {
    /// Distinguishes deployments in signed L1 messages (oracle attestations, key derivation).
    pub network_id: u32,
    /// The network's name; the L2 key-derivation message names it (docs/protocol.md §5).
    pub name: String,
    /// Tree depths and limits.
    pub preset: Preset,
    /// Connected chains, ids 1..=n in order: the commitment carries one rolling hash per chain.
    pub chains: Vec<ChainInfo>,
    /// Listed tokens (never USD, which exists only on L2).
    pub tokens: Vec<TokenInfo>,
}

impl Network {
    /// Checks the configuration: a valid preset; chains 1..=n in order, at most the preset's
    /// largest chain id, at least one of them data-availability; tokens valid user tokens other
    /// than USD, within the preset, listed only on connected chains with at most 18 decimals.
    pub fn validate(&self) -> Result<(), NetworkError> {
        self.preset.validate()?;
        if self.chains.is_empty() {
            return Err(NetworkError::NoChains);
        }
        for (index, c) in self.chains.iter().enumerate() {
            if c.id.0 as usize != index + 1 {
                return Err(NetworkError::ChainOrder { index, id: c.id });
            }
        }
        if self.chains.len() > self.preset.max_chain_id() as usize {
            return Err(NetworkError::TooManyChains {
                preset: self.preset.name.clone(),
                max: self.preset.max_chain_id(),
                configured: self.chains.len(),
            });
        }
        if !self.chains.iter().any(|c| c.data_availability) {
            return Err(NetworkError::NoDataAvailability);
        }
        for t in &self.tokens {
            let token = t.id;
            t.id.check_user_token().map_err(NetworkError::Token)?;
            if t.id.0 == 1 {
                return Err(NetworkError::UsdListed);
            }
            self.preset.check_token(t.id).map_err(NetworkError::Token)?;
            if self.preset.is_lp_token(t.id) {
                return Err(NetworkError::Token(TxError::InvalidToken {
                    token: t.id,
                    reason: "LP token ids (the preset's top 2^(token_bits − 3) ids) are L2-only and cannot be listed",
                }));
            }
            for tc in &t.chains {
                if self.chain(tc.chain).is_none() {
                    return Err(NetworkError::UnknownChain { token, chain: tc.chain });
                }
                if tc.decimals > 18 {
                    return Err(NetworkError::TooManyDecimals { token, chain: tc.chain, decimals: tc.decimals });
                }
            }
        }
        Ok(())
    }

    /// The connected chain with id `id`, if any.
    pub fn chain(&self, id: ChainId) -> Option<&ChainInfo> {
        self.chains.get((id.0 as usize).wrapping_sub(1)).filter(|c| c.id == id)
    }

    /// The connected chain `id`; [`TxError::InvalidChain`] if it is outside 1..=31 or not connected.
    pub fn check_chain(&self, id: ChainId) -> Result<&ChainInfo, TxError> {
        id.check_range()?;
        self.chain(id).ok_or(TxError::InvalidChain { chain: id, reason: "not connected to this network" })
    }

    /// How `token` is listed on `chain` (contract, decimals); [`TxError::TokenNotOnChain`] if it is not.
    pub fn token_on_chain(&self, token: TokenId, chain: ChainId) -> Result<&TokenOnChain, TxError> {
        self.tokens
            .iter()
            .find(|t| t.id == token)
            .and_then(|t| t.chains.iter().find(|c| c.chain == chain))
            .ok_or(TxError::TokenNotOnChain { token, chain })
    }

    /// The token named `name`: a listed symbol (`USDC`, any case), `USD`, or an id (`17`).
    pub fn token_by_name(&self, name: &str) -> Option<TokenId> {
        let name = name.trim();
        if let Ok(id) = name.parse::<u16>() {
            return Some(TokenId(id));
        }
        if name.eq_ignore_ascii_case("USD") {
            return Some(crate::token::USD_TOKEN_ID);
        }
        self.tokens.iter().find(|t| t.symbol.eq_ignore_ascii_case(name)).map(|t| t.id)
    }

    /// The names [`Network::token_by_name`] knows, for messages: "USD, USDC, USDT, …".
    pub fn token_names(&self) -> String {
        let mut known = vec!["USD".to_string()];
        known.extend(self.tokens.iter().map(|t| t.symbol.clone()));
        known.join(", ")
    }

    /// How users name `token`: `USD` for 1, the listed symbol (`USDC`), `USD (USDC reserve)` for
    /// a USD reserve id 2..=16 of a listed stablecoin, else `token <id>`.
    pub fn symbol(&self, token: TokenId) -> String {
        let listed = |id: TokenId| self.tokens.iter().find(|t| t.id == id).map(|t| t.symbol.clone());
        if token == crate::token::USD_TOKEN_ID {
            return "USD".into();
        }
        if crate::token::USD_RESERVE_RANGE.contains(&token.0) {
            let stablecoin = TokenId(token.0 + crate::token::USD_RESERVE_OFFSET);
            return listed(stablecoin).map_or_else(|| format!("token {token}"), |s| format!("USD ({s} reserve)"));
        }
        listed(token).unwrap_or_else(|| format!("token {token}"))
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
        // On-chain alignment: at least 2 (1 would pay both chain-hash compressions at every chunk),
        // at most the smallest shape.
        for bad in [1, 5] {
            let p = Preset { onchain_period: bad, ..Preset::dev() };
            assert_eq!(p.validate(), Err(PresetError::OnchainPeriod(bad)));
        }
        let code = crate::op::op_code::DEPOSIT;
        assert_eq!(
            (d.padding(3, d.start_period(code)), d.padding(4, d.start_period(code)), d.padding(3, 1)),
            (1, 0, 0)
        );
        assert_eq!((d.lp_tokens(), m.lp_tokens(), m.max_pools()), (56..=63, 57344..=65535, 8192));
        assert_eq!((m.padding(9, m.start_period(code)), m.credit_slots(16), m.credit_slots(256)), (7, 4, 32));
    }

    #[test]
    fn index_layout() {
        let m = Preset::main();
        assert_eq!(m.balance_index(SubAccountId(1), TokenId(3)), 65536 + 3);
        assert_eq!(m.split_balance_index(65536 + 3), (SubAccountId(1), TokenId(3)));
        assert_eq!(m.order_index(SubAccountId(2), SlotId(1)), 2 * 65536 + 1);
    }
}
