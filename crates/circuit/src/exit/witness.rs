//! The exit witness, built natively from a state: the claim, the leaf fields, every chain's
//! reserves and the pro-rata amount (the circuit in [`super::circuit`] checks the same facts).

use ark_ff::PrimeField;
use num_bigint::BigUint;
use zklink_crypto::Fr;
use zklink_state::{MerklePath, State, StateError};
use zklink_types::{
    AccountId, Address, ChainId, Nonce, Preset, PubKeyHash, SubAccountId, TokenId, GLOBAL_ASSET_ACCOUNT_ID,
    STABLECOIN_RANGE, USD_RESERVE_RANGE, USD_TOKEN_ID,
};

use super::*;

/// What an exit asks for; the owner and amount follow from the state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExitRequest {
    /// The chain that pays (1..=n).
    pub chain: ChainId,
    /// The exiting account (any but 1; the fee account 0 is a real owner).
    pub account: AccountId,
    /// The sub-account holding the balance.
    pub sub: SubAccountId,
    /// The balance's token: 1 (USD) or ≥ 17.
    pub l2_token: TokenId,
    /// The reserve id paid from: `l2_token` itself, or for USD one of 2..=16 (stablecoin `r + 15`).
    pub reserve_token: TokenId,
}

/// The statement an exit proof proves; its encoding is the proof's public input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExitClaim {
    /// The last executed state root.
    pub root: Fr,
    /// The paying chain.
    pub chain: ChainId,
    /// The exiting account.
    pub account: AccountId,
    /// Its sub-account.
    pub sub: SubAccountId,
    /// The account leaf's L1 address, who is paid.
    pub owner: Address,
    /// The balance's token (1 or ≥ 17).
    pub l2_token: TokenId,
    /// The reserve id paid from (`l2_token`, or 2..=16 for USD: L1 token `reserve_token + 15`).
    pub reserve_token: TokenId,
    /// What `chain` pays.
    pub amount: u128,
}

impl ExitClaim {
    /// `root 32 ‖ chain u8 ‖ account u32 ‖ sub u8 ‖ owner 20 ‖ l2_token u16 ‖ reserve_token u16 ‖ amount u128`.
    pub fn encode(&self) -> [u8; CLAIM_BYTES] {
        let mut out = [0u8; CLAIM_BYTES];
        let parts: [&[u8]; 8] = [
            &zklink_crypto::fr_to_bytes(&self.root),
            &[self.chain.0],
            &self.account.0.to_be_bytes(),
            &[self.sub.0],
            self.owner.as_slice(),
            &self.l2_token.0.to_be_bytes(),
            &self.reserve_token.0.to_be_bytes(),
            &self.amount.to_be_bytes(),
        ];
        let mut at = 0;
        for p in parts {
            out[at..at + p.len()].copy_from_slice(p);
            at += p.len();
        }
        out
    }

    /// `sha256(encode())`.
    pub fn commitment(&self) -> [u8; 32] {
        zklink_crypto::sha256(&self.encode())
    }

    /// The commitment with its top 3 bits cleared, read big-endian: the proof's single public input.
    pub fn public_input(&self) -> Fr {
        let mut c = self.commitment();
        c[0] &= 0x1f;
        Fr::from_be_bytes_mod_order(&c)
    }
}

/// Why an exit witness cannot be built.
#[derive(thiserror::Error, Debug)]
pub enum ExitError {
    /// The chain count is 0 or more than the preset allows.
    #[error("a network has 1..={max} chains at preset {preset}, got {chains}")]
    ChainCount {
        /// The chain count asked for.
        chains: u8,
        /// The preset's largest chain id.
        max: u8,
        /// The preset's name.
        preset: String,
    },
    /// The preset itself is not valid.
    #[error("invalid preset: {0}")]
    Preset(#[source] zklink_types::PresetError),
    /// The paying chain is not one of 1..=n.
    #[error("chain {chain} is not connected: chains are 1..={chains}")]
    ChainOutOfRange {
        /// The chain asked to pay.
        chain: ChainId,
        /// The network's chain count n.
        chains: u8,
    },
    /// The exit names account 1, whose balances are the reserves themselves.
    #[error("account 1 is the global asset account: its reserves cannot be exited")]
    GlobalAssetAccount,
    /// The exit names an account id the state has not created.
    #[error("account {account} does not exist: the state has accounts 0..{count}")]
    UnknownAccount {
        /// The account named.
        account: AccountId,
        /// Number of accounts in the state.
        count: usize,
    },
    /// The account is a pool: its balances belong to its LPs, who exit through their shares.
    #[error("account {account} is a pool: its reserves are its liquidity providers', not an owner's")]
    PoolAccount {
        /// The account named.
        account: AccountId,
    },
    /// No pool took the LP token.
    #[error("no pool has LP token {lp_token}")]
    NoPool {
        /// The LP token claimed.
        lp_token: TokenId,
    },
    /// The account's address is zero, so nobody could be paid.
    #[error("account {account} has no owner address to pay")]
    NoOwner {
        /// The account named.
        account: AccountId,
    },
    /// The sub-account is at least `2^sub_account_bits`.
    #[error("sub-account {sub} is out of range: at most {max}")]
    SubAccountOutOfRange {
        /// The sub-account named.
        sub: SubAccountId,
        /// The preset's largest sub-account id.
        max: u8,
    },
    /// The token pair breaks the exit's token rule (USD from reserve ids 2..=16, other tokens ≥ 17
    /// from their own reserve, within the preset's token range).
    #[error("l2 token {l2_token} with reserve token {reserve_token}: {reason}")]
    InvalidTokens {
        /// The balance's token.
        l2_token: TokenId,
        /// The reserve id asked to pay from.
        reserve_token: TokenId,
        /// Which part of the rule is broken.
        reason: &'static str,
    },
    /// A witness's path depths or chain count differ from the circuit's shape.
    #[error("witness does not fit the circuit shape: {0}")]
    Shape(String),
    /// The state could not produce a Merkle path.
    #[error(transparent)]
    State(#[from] StateError),
}

/// The sizes a circuit is built for: a preset's tree depths and the network's chain count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExitShape {
    /// Bits of an account id (the account tree's index).
    pub account_bits: usize,
    /// Bits of a sub-account id; also bound the chain ids.
    pub sub_account_bits: usize,
    /// Bits of a token id.
    pub token_bits: usize,
    /// Levels of the 4-ary account tree.
    pub account_levels: usize,
    /// Levels of a 4-ary balance tree.
    pub balance_levels: usize,
    /// Connected chains 1..=chains.
    pub chains: u8,
    /// The first LP token id ([`Preset::lp_tokens`]).
    pub lp_first: u16,
}

impl ExitShape {
    /// The shape for `preset` with `chains` connected chains.
    pub fn new(preset: &Preset, chains: u8) -> Result<Self, ExitError> {
        // The layout of the USD block needs the validated ranges (token_bits ≥ 6).
        preset.validate().map_err(ExitError::Preset)?;
        let max = preset.max_chain_id();
        if chains == 0 || chains > max {
            return Err(ExitError::ChainCount { chains, max, preset: preset.name.clone() });
        }
        Ok(Self {
            account_bits: preset.account_bits as usize,
            sub_account_bits: preset.sub_account_bits as usize,
            token_bits: preset.token_bits as usize,
            account_levels: preset.account_levels() as usize,
            balance_levels: preset.balance_levels() as usize,
            chains,
            lp_first: *preset.lp_tokens().start(),
        })
    }
}

/// An account leaf's fields other than its address (the circuit supplies that).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LeafFields {
    /// The account's L2 key hash.
    pub pubkey_hash: PubKeyHash,
    /// The account nonce.
    pub nonce: Nonce,
    /// Root of its balance tree.
    pub balance_root: Fr,
    /// Root of its order-slot tree.
    pub order_root: Fr,
}

/// What one chain's reserves contribute, all under account 1's balance root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainReserves {
    /// `R(c', r)` for the claim's reserve token `r`.
    pub reserve: u128,
    /// Its path in account 1's balance tree.
    pub reserve_path: MerklePath,
    /// Balances of tokens 0..=15 in sub-account `c'` (ids 2..=15 are USD reserves).
    pub low_tokens: [u128; LOW_TOKENS],
    /// Balance of token 16, the last USD reserve id.
    pub token16: u128,
    /// Its path; the level-2 sibling at slot 0 (the node of tokens 0..=15) is recomputed in-circuit.
    pub token16_path: MerklePath,
}

impl ChainReserves {
    /// `Σ_{x=2..=16} R(c', x)`.
    pub fn usd_total(&self) -> BigUint {
        let low: BigUint = self.low_tokens[2..].iter().map(|v| BigUint::from(*v)).sum();
        low + self.token16
    }
}

/// What backs an LP-token claim: the pool that took the LP token (the registry leaf, account 1's
/// sub-account 0, says which) and the pool's reserve of the claimed underlying token and its
/// share supply, each with its path. All zero for a claim on a plain token or USD.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolShare {
    /// The pool's account id.
    pub pool: AccountId,
    /// The pool's address (it encodes the pool's tokens and LP token).
    pub address: Address,
    /// The pool's account leaf.
    pub leaf: LeafFields,
    /// The pool's path in the account tree.
    pub path: MerklePath,
    /// The registry leaf's path in account 1's balance tree (its value is `pool + 1`).
    pub registry_path: MerklePath,
    /// The pool's reserve of the underlying token.
    pub reserve: u128,
    /// Its path in the pool's balance tree.
    pub reserve_path: MerklePath,
    /// The pool's share supply.
    pub supply: u128,
    /// Its path in the pool's balance tree.
    pub supply_path: MerklePath,
}

impl PoolShare {
    fn blank(shape: &ExitShape) -> Self {
        let path = |levels: usize| MerklePath { index: 0, siblings: vec![[Fr::from(0u64); 3]; levels] };
        Self {
            pool: AccountId(0),
            address: Address::ZERO,
            leaf: LeafFields::default(),
            path: path(shape.account_levels),
            registry_path: path(shape.balance_levels),
            reserve: 0,
            reserve_path: path(shape.balance_levels),
            supply: 0,
            supply_path: path(shape.balance_levels),
        }
    }
}

/// Everything the exit circuit needs: the claim and the Merkle data proving it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExitWitness {
    /// The statement.
    pub claim: ExitClaim,
    /// Balance of (account, sub, l2_token).
    pub balance: u128,
    /// The account leaf (its address is `claim.owner`).
    pub account: LeafFields,
    /// The account leaf's path in the account tree.
    pub account_path: MerklePath,
    /// The balance's path in the account's balance tree.
    pub balance_path: MerklePath,
    /// Account 1's leaf (its address is the constant `0xff…ff`).
    pub global: LeafFields,
    /// Account 1's path in the account tree.
    pub global_path: MerklePath,
    /// Chains 1..=n in order.
    pub chains: Vec<ChainReserves>,
    /// For an LP-token claim, the pool backing the shares (blank otherwise).
    pub pool: PoolShare,
}

/// `⌊balance · reserve / total⌋`, 0 when `total = 0`.
pub fn pro_rata(balance: u128, reserve: u128, total: &BigUint) -> u128 {
    if *total == BigUint::ZERO {
        return 0;
    }
    let share = BigUint::from(balance) * reserve / total;
    // share ≤ balance whenever reserve ≤ total; saturate otherwise rather than panic.
    u128::try_from(share).unwrap_or(u128::MAX)
}

/// The token an LP-token claim takes out of the pool: USD for a reserve id 2..=16, else the
/// reserve token itself.
pub fn underlying(reserve_token: TokenId) -> TokenId {
    if USD_RESERVE_RANGE.contains(&reserve_token.0) {
        USD_TOKEN_ID
    } else {
        reserve_token
    }
}

fn check_tokens(preset: &Preset, l2_token: TokenId, reserve_token: TokenId) -> Result<(), ExitError> {
    let invalid = |reason| ExitError::InvalidTokens { l2_token, reserve_token, reason };
    if preset.is_lp_token(l2_token) {
        if !USD_RESERVE_RANGE.contains(&reserve_token.0)
            && (reserve_token.0 < *STABLECOIN_RANGE.start() || preset.is_lp_token(reserve_token))
        {
            return Err(invalid("LP shares are paid in one of the pool's tokens: a reserve id 2..=16 or a token ≥ 17"));
        }
    } else if l2_token == USD_TOKEN_ID {
        if !USD_RESERVE_RANGE.contains(&reserve_token.0) {
            return Err(invalid("USD is paid from a reserve id in 2..=16 (stablecoin id − 15)"));
        }
    } else if l2_token.0 < *STABLECOIN_RANGE.start() {
        return Err(invalid("the token must be USD (1) or a real token (≥ 17)"));
    } else if reserve_token != l2_token {
        return Err(invalid("a token other than USD is paid from its own reserve"));
    }
    preset.check_token(l2_token).map_err(|_| invalid("token id beyond the preset's token tree"))
}

fn leaf_fields(state: &mut State, account: AccountId) -> LeafFields {
    let leaf = state.account_leaf(account);
    LeafFields {
        pubkey_hash: leaf.pubkey_hash,
        nonce: leaf.nonce,
        balance_root: leaf.balance_root,
        order_root: leaf.order_root,
    }
}

fn chain_reserves(state: &mut State, chain: u8, reserve_token: TokenId) -> Result<ChainReserves, ExitError> {
    let (id, sub) = (GLOBAL_ASSET_ACCOUNT_ID, SubAccountId(chain));
    let mut low_tokens = [0u128; LOW_TOKENS];
    for (x, v) in low_tokens.iter_mut().enumerate() {
        *v = state.balance(id, sub, TokenId(x as u16));
    }
    Ok(ChainReserves {
        reserve: state.balance(id, sub, reserve_token),
        reserve_path: state.balance_path(id, sub, reserve_token)?,
        low_tokens,
        token16: state.balance(id, sub, TokenId(TOKEN_16)),
        token16_path: state.balance_path(id, sub, TokenId(TOKEN_16))?,
    })
}

impl ExitWitness {
    /// Builds the witness for `req` against the state's current root, which must be the last
    /// executed one. Takes `&mut` because paths flush the state's pending hashing.
    pub fn build(state: &mut State, chains: u8, req: &ExitRequest) -> Result<Self, ExitError> {
        let preset = state.preset().clone();
        ExitShape::new(&preset, chains)?;
        if req.chain.0 == 0 || req.chain.0 > chains {
            return Err(ExitError::ChainOutOfRange { chain: req.chain, chains });
        }
        if req.account == GLOBAL_ASSET_ACCOUNT_ID {
            return Err(ExitError::GlobalAssetAccount);
        }
        if req.sub.0 > preset.max_sub_account() {
            return Err(ExitError::SubAccountOutOfRange { sub: req.sub, max: preset.max_sub_account() });
        }
        check_tokens(&preset, req.l2_token, req.reserve_token)?;
        let owner = state
            .account(req.account)
            .map(|a| a.address)
            .ok_or(ExitError::UnknownAccount { account: req.account, count: state.account_count() })?;
        if owner.is_zero() {
            return Err(ExitError::NoOwner { account: req.account });
        }
        if zklink_types::pool::is_reserved_address(&owner) {
            return Err(ExitError::PoolAccount { account: req.account });
        }

        let root = state.root();
        let balance = state.balance(req.account, req.sub, req.l2_token);
        let chain_data =
            (1..=chains).map(|c| chain_reserves(state, c, req.reserve_token)).collect::<Result<Vec<_>, _>>()?;
        let shape = ExitShape::new(&preset, chains)?;
        let pool = if preset.is_lp_token(req.l2_token) {
            pool_share(state, req.l2_token, req.reserve_token)?
        } else {
            PoolShare::blank(&shape)
        };
        let usd_like = usd_like(preset.is_lp_token(req.l2_token), req.l2_token, req.reserve_token);
        let backed = backed_balance(preset.is_lp_token(req.l2_token), balance, &pool);
        let amount = pro_rata(backed, chain_data[req.chain.0 as usize - 1].reserve, &total(usd_like, &chain_data));
        Ok(Self {
            claim: ExitClaim {
                root,
                chain: req.chain,
                account: req.account,
                sub: req.sub,
                owner,
                l2_token: req.l2_token,
                reserve_token: req.reserve_token,
                amount,
            },
            balance,
            account: leaf_fields(state, req.account),
            account_path: state.account_path(req.account)?,
            balance_path: state.balance_path(req.account, req.sub, req.l2_token)?,
            global: leaf_fields(state, GLOBAL_ASSET_ACCOUNT_ID),
            global_path: state.account_path(GLOBAL_ASSET_ACCOUNT_ID)?,
            chains: chain_data,
            pool,
        })
    }

    /// An all-zero witness of `shape`, for key generation (keys depend on the shape only).
    pub fn blank(shape: &ExitShape) -> Self {
        let path = |levels: usize| MerklePath { index: 0, siblings: vec![[Fr::from(0u64); 3]; levels] };
        let chain = ChainReserves {
            reserve: 0,
            reserve_path: path(shape.balance_levels),
            low_tokens: [0; LOW_TOKENS],
            token16: 0,
            token16_path: path(shape.balance_levels),
        };
        Self {
            claim: ExitClaim {
                root: Fr::from(0u64),
                chain: ChainId(1),
                account: AccountId(0),
                sub: SubAccountId(0),
                owner: Address::ZERO,
                l2_token: USD_TOKEN_ID,
                reserve_token: TokenId(2),
                amount: 0,
            },
            balance: 0,
            account: LeafFields::default(),
            account_path: path(shape.account_levels),
            balance_path: path(shape.balance_levels),
            global: LeafFields::default(),
            global_path: path(shape.account_levels),
            chains: vec![chain; shape.chains as usize],
            pool: PoolShare::blank(shape),
        }
    }

    pub(super) fn check_shape(&self, shape: &ExitShape) -> Result<(), ExitError> {
        let levels = |name: &str, path: &MerklePath, want: usize| {
            if path.levels() == want {
                Ok(())
            } else {
                Err(ExitError::Shape(format!("{name} has {} levels, the circuit expects {want}", path.levels())))
            }
        };
        levels("account path", &self.account_path, shape.account_levels)?;
        levels("global account path", &self.global_path, shape.account_levels)?;
        levels("balance path", &self.balance_path, shape.balance_levels)?;
        if self.chains.len() != shape.chains as usize {
            return Err(ExitError::Shape(format!(
                "{} chains of reserves, expected {}",
                self.chains.len(),
                shape.chains
            )));
        }
        for c in &self.chains {
            levels("reserve path", &c.reserve_path, shape.balance_levels)?;
            levels("token 16 path", &c.token16_path, shape.balance_levels)?;
        }
        levels("pool path", &self.pool.path, shape.account_levels)?;
        levels("registry path", &self.pool.registry_path, shape.balance_levels)?;
        levels("pool reserve path", &self.pool.reserve_path, shape.balance_levels)?;
        levels("pool supply path", &self.pool.supply_path, shape.balance_levels)?;
        Ok(())
    }
}

/// Whether the claim is paid from the USD reserves: a USD balance, or LP shares of a pool's USD.
pub(super) fn usd_like(is_lp: bool, l2_token: TokenId, reserve_token: TokenId) -> bool {
    l2_token == USD_TOKEN_ID || (is_lp && underlying(reserve_token) == USD_TOKEN_ID)
}

/// The L2 balance the claim stands for: the balance itself, or for LP shares their part of the
/// pool's reserve of the underlying token, `⌊shares · R_u / S⌋`.
pub(super) fn backed_balance(is_lp: bool, balance: u128, pool: &PoolShare) -> u128 {
    if is_lp {
        pro_rata(balance, pool.reserve, &BigUint::from(pool.supply))
    } else {
        balance
    }
}

/// The pool behind LP token `lp` and its reserve of the token `reserve_token` pays.
fn pool_share(state: &mut State, lp: TokenId, reserve_token: TokenId) -> Result<PoolShare, ExitError> {
    let pool = state.pool_of_lp_token(lp).ok_or(ExitError::NoPool { lp_token: lp })?;
    let (params, reserves) = state.pool(pool).ok_or(ExitError::NoPool { lp_token: lp })?;
    let u = underlying(reserve_token);
    let reserve = if u == params.token_a {
        reserves.a
    } else if u == params.token_b {
        reserves.b
    } else {
        return Err(ExitError::InvalidTokens {
            l2_token: lp,
            reserve_token,
            reason: "the pool holds neither that token nor USD from that reserve",
        });
    };
    let sub = zklink_types::pool::POOL_SUB_ACCOUNT;
    let address = state.account(pool).map(|a| a.address).unwrap_or_default();
    Ok(PoolShare {
        pool,
        address,
        leaf: leaf_fields(state, pool),
        path: state.account_path(pool)?,
        registry_path: state.balance_path(GLOBAL_ASSET_ACCOUNT_ID, zklink_types::pool::REGISTRY_SUB_ACCOUNT, lp)?,
        reserve,
        reserve_path: state.balance_path(pool, sub, u)?,
        supply: reserves.supply,
        supply_path: state.balance_path(pool, sub, lp)?,
    })
}

/// The reserve total the claim divides by: `Σ R(c', r)`, or from the USD reserves
/// `Σ Σ_{x=2..=16} R(c', x)`.
pub(super) fn total(usd_like: bool, chains: &[ChainReserves]) -> BigUint {
    if usd_like {
        chains.iter().map(ChainReserves::usd_total).sum()
    } else {
        chains.iter().map(|c| BigUint::from(c.reserve)).sum()
    }
}
