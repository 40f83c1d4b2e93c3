//! Helpers for tests and benchmarks: users with L1 and L2 keys, and signed transactions
//! built against the executor's current state. Not used by production paths.

use k256::ecdsa::SigningKey;
use zklink_crypto::eddsa::PrivateKey;
use zklink_crypto::l1::{address_of, derive_l2_key, sign_change_pubkey, L1Domain};
use zklink_state::State;
use zklink_types::*;

use crate::{ExecutedOp, Executor, SealedBlock};

/// Fee owner used by test networks.
pub const TEST_FEE_OWNER: Address = Address::new([0xfe; 20]);

/// A deterministic test user: an L1 key, its address, and the L2 key derived from it.
#[derive(Clone)]
pub struct TestUser {
    /// The user's L1 (secp256k1) key.
    pub l1: SigningKey,
    /// The L1 address of `l1`, which owns the user's account.
    pub address: Address,
    /// The L2 key derived from `l1` for the network (docs/protocol.md §5).
    pub l2: PrivateKey,
    /// Pubkey hash of `l2`, what ChangePubKey sets.
    pub pkh: PubKeyHash,
}

impl TestUser {
    /// Deterministic user number `n` (n ≥ 0).
    pub fn new(n: u64, network: &Network) -> Self {
        let mut secret = [0u8; 32];
        secret[24..].copy_from_slice(&(n + 1).to_be_bytes());
        secret[0] = 0x11;
        let l1 = SigningKey::from_slice(&secret).expect("valid secp256k1 scalar");
        let address = address_of(&l1);
        let l2 = derive_l2_key(&l1, &network.name);
        let pkh = l2.public_key().pubkey_hash();
        Self { l1, address, l2, pkh }
    }
}

/// An executor on a fresh genesis, a priority-request counter, and the blocks sealed so far.
pub struct TestNet {
    /// The executor, on the genesis of [`TEST_FEE_OWNER`].
    pub exec: Executor,
    serial: u64,
    /// The blocks sealed so far, in order (block 1 first).
    pub blocks: Vec<SealedBlock>,
}

/// Signs when the tx is encodable; otherwise returns it unsigned so that tests can check
/// the executor's rejection of unencodable fields.
fn signed(tx: L2Tx, key: &PrivateKey) -> L2Tx {
    tx.clone().sign(key).unwrap_or(tx)
}

impl TestNet {
    /// A test net on `network`'s genesis with fee owner [`TEST_FEE_OWNER`].
    pub fn new(network: Network) -> Self {
        let state = State::genesis(network.preset.clone(), TEST_FEE_OWNER);
        let mut exec = Executor::new(network, state).expect("valid test network");
        exec.set_block_timestamp(1).expect("no block is open yet");
        Self { exec, serial: 0, blocks: Vec::new() }
    }

    /// Seals the pending ops as the next block (timestamp = block number, unless a test set
    /// another with [`Executor::set_block_timestamp`]); the next block's is its number.
    pub fn seal(&mut self) -> &SealedBlock {
        let number = BlockNumber(self.blocks.len() as u32 + 1);
        let sealed = self.exec.seal_block(number).expect("pending ops fit a block");
        self.exec.set_block_timestamp(number.0 as u64 + 1).expect("the sealed block left no ops");
        self.blocks.push(sealed);
        self.blocks.last().expect("just pushed")
    }

    /// Applies an L2 tx, sealing the current block first when the tx does not fit, as a node would.
    pub fn apply_l2(&mut self, tx: L2Tx) -> Result<ExecutedOp, TxError> {
        match self.exec.apply_l2(tx.clone()) {
            Err(TxError::BlockFull { .. }) => {
                self.seal();
                self.exec.apply_l2(tx).cloned()
            }
            other => other.cloned(),
        }
    }

    /// Applies a priority request, sealing the current block first when it does not fit.
    pub fn apply_priority(&mut self, tx: &PriorityTx) -> Result<ExecutedOp, TxError> {
        match self.exec.apply_priority(tx) {
            Err(TxError::BlockFull { .. }) => {
                self.seal();
                self.exec.apply_priority(tx).cloned()
            }
            other => other.cloned(),
        }
    }

    /// A test net on [`Network::dev`] with 3 chains.
    pub fn dev() -> Self {
        Self::new(Network::dev(3))
    }

    /// The network the executor runs.
    pub fn network(&self) -> &Network {
        self.exec.network()
    }

    /// The executor's current state.
    pub fn state(&self) -> &State {
        self.exec.state()
    }

    /// The account id owned by `u` (panics if it has none).
    pub fn id_of(&self, u: &TestUser) -> AccountId {
        self.state().account_id_by_address(&u.address).expect("user has an account")
    }

    /// The current nonce of `u`'s account (panics if it has none).
    pub fn nonce_of(&self, u: &TestUser) -> Nonce {
        self.state().account(self.id_of(u)).map(|a| a.nonce).unwrap_or_default()
    }

    /// Test user number `n` on this network.
    pub fn user(&self, n: u64) -> TestUser {
        TestUser::new(n, self.network())
    }

    /// A deposit request of `amount` (L2 units) from `to` to itself on `chain`, with the next serial id;
    /// not applied.
    pub fn deposit_tx(&mut self, chain: u8, to: Address, sub: u8, l1: u16, l2: u16, amount: u128) -> PriorityTx {
        self.serial += 1;
        PriorityTx::Deposit(Deposit {
            chain_id: ChainId(chain),
            serial_id: SerialId(self.serial),
            from: to,
            to,
            sub_account_id: SubAccountId(sub),
            l1_token: TokenId(l1),
            l2_token: TokenId(l2),
            amount,
        })
    }

    /// Applies a deposit and panics if it fails (test set-up).
    pub fn deposit(&mut self, chain: u8, u: &TestUser, sub: u8, l1: u16, l2: u16, amount: u128) {
        let tx = self.deposit_tx(chain, u.address, sub, l1, l2, amount);
        self.apply_priority(&tx).expect("test deposit");
    }

    /// A full-exit request on `chain` with the next serial id; not applied.
    pub fn full_exit_tx(
        &mut self,
        chain: u8,
        account: AccountId,
        owner: Address,
        sub: u8,
        l1: u16,
        l2: u16,
    ) -> PriorityTx {
        self.serial += 1;
        PriorityTx::FullExit(FullExit {
            chain_id: ChainId(chain),
            serial_id: SerialId(self.serial),
            account_id: account,
            sub_account_id: SubAccountId(sub),
            owner,
            l1_token: TokenId(l1),
            l2_token: TokenId(l2),
        })
    }

    /// ChangePubKey authorised by an EIP-712 signature on chain 1, zero fee.
    pub fn change_pubkey_tx(&self, u: &TestUser) -> L2Tx {
        let id = self.id_of(u);
        let nonce = self.nonce_of(u);
        let chain = &self.network().chains[0];
        let domain = L1Domain { l1_chain_id: chain.l1_chain_id, verifying_contract: chain.contract };
        let sig = sign_change_pubkey(&u.l1, &domain, &u.pkh, nonce.0, id.0);
        L2Tx::ChangePubKey(ChangePubKey {
            chain_id: chain.id,
            account_id: id,
            sub_account_id: SubAccountId(0),
            new_pk_hash: u.pkh,
            fee_token: TokenId(18),
            fee: 0,
            nonce,
            auth: ChangePubKeyAuth::EthEcdsa { signature: sig },
            signature: TxSignature::default(),
        })
        .sign(&u.l2)
        .expect("change-pubkey fields are always encodable")
    }

    /// Sets the user's key (panics on failure: test set-up).
    pub fn activate(&mut self, u: &TestUser) {
        let tx = self.change_pubkey_tx(u);
        self.apply_l2(tx).expect("test change-pubkey");
    }

    /// A transfer from `u`'s sub-account 0 to `to`'s sub-account 0 at `u`'s current nonce, signed by `u`
    /// (unsigned if a field is not encodable).
    pub fn transfer_tx(&self, u: &TestUser, to: Address, token: u16, amount: u128, fee: u128) -> L2Tx {
        let tx = L2Tx::Transfer(Transfer {
            account_id: self.id_of(u),
            from_sub_account_id: SubAccountId(0),
            to,
            to_sub_account_id: SubAccountId(0),
            token: TokenId(token),
            amount,
            fee,
            nonce: self.nonce_of(u),
            signature: TxSignature::default(),
        });
        signed(tx, &u.l2)
    }

    /// A withdraw from `u`'s sub-account 0 to `u`'s own address on `chain` at `u`'s current nonce, signed
    /// by `u` (unsigned if a field is not encodable); `fast_ratio` in units of 1/10^4.
    #[allow(clippy::too_many_arguments)]
    pub fn withdraw_tx(
        &self,
        u: &TestUser,
        chain: u8,
        l2: u16,
        l1: u16,
        amount: u128,
        fee: u128,
        fast_ratio: u16,
    ) -> L2Tx {
        let tx = L2Tx::Withdraw(Withdraw {
            to_chain_id: ChainId(chain),
            account_id: self.id_of(u),
            sub_account_id: SubAccountId(0),
            to: u.address,
            l2_source_token: TokenId(l2),
            l1_target_token: TokenId(l1),
            amount,
            fee,
            nonce: self.nonce_of(u),
            fast_withdraw_fee_ratio: fast_ratio,
            signature: TxSignature::default(),
        });
        signed(tx, &u.l2)
    }

    /// An unsigned-by-default order; `sign` it with the owner's key.
    #[allow(clippy::too_many_arguments)]
    pub fn order(
        &self,
        u: &TestUser,
        slot: u16,
        nonce: u32,
        base: u16,
        quote: u16,
        amount: u128,
        price: u128,
        is_sell: bool,
    ) -> Order {
        let order = Order {
            account_id: self.id_of(u),
            sub_account_id: SubAccountId(0),
            slot_id: SlotId(slot),
            nonce: OrderNonce(nonce),
            base_token: TokenId(base),
            quote_token: TokenId(quote),
            amount,
            price: Price(price),
            is_sell,
            maker_fee_ratio: 10,
            taker_fee_ratio: 20,
            valid_from: 0,
            valid_until: Order::NO_EXPIRY,
            signature: TxSignature::default(),
        };
        order.clone().sign(&u.l2).unwrap_or(order)
    }

    /// A hard cancel of `u`'s slot `slot` (sub-account 0) up to order nonce `order_nonce`, at
    /// `u`'s current nonce, signed by `u` (unsigned if a field is not encodable).
    pub fn cancel_tx(&self, u: &TestUser, slot: u16, order_nonce: u32, fee_token: u16, fee: u128) -> L2Tx {
        let tx = L2Tx::CancelOrder(CancelOrder {
            account_id: self.id_of(u),
            sub_account_id: SubAccountId(0),
            slot_id: SlotId(slot),
            order_nonce: OrderNonce(order_nonce),
            fee_token: TokenId(fee_token),
            fee,
            nonce: self.nonce_of(u),
            signature: TxSignature::default(),
        });
        signed(tx, &u.l2)
    }

    /// An order matching submitted by `submitter` in sub-account 0 at its current nonce, without
    /// expected-amount caps, signed by `submitter` (unsigned if a field is not encodable).
    pub fn matching_tx(&self, submitter: &TestUser, maker: Order, taker: Order, fee_token: u16, fee: u128) -> L2Tx {
        let tx = L2Tx::OrderMatching(Box::new(OrderMatching {
            account_id: self.id_of(submitter),
            sub_account_id: SubAccountId(0),
            nonce: self.nonce_of(submitter),
            maker,
            taker,
            fee_token: TokenId(fee_token),
            fee,
            expect_base_amount: 0,
            expect_quote_amount: 0,
            signature: TxSignature::default(),
        }));
        signed(tx, &submitter.l2)
    }

    /// The pool at account `pool`: its parameters and its reserves and share supply; `None` if
    /// the account is not a pool.
    pub fn pool(&self, pool: AccountId) -> Option<(PoolParams, Reserves)> {
        self.state().pool(pool)
    }

    /// The token a liquidity change on `pool` pays its fee in: the pool's first token, or USD if
    /// the account is not a pool (a tx that the executor refuses with `NotAPool`).
    fn liquidity_fee_token(&self, pool: AccountId) -> TokenId {
        self.pool(pool).map_or(USD_TOKEN_ID, |(p, _)| p.token_a)
    }

    /// A constant-product pool of `token_a < token_b` created by `u` (sub-account 0) with a swap fee
    /// of `fee_bps` and a protocol share of `protocol_share` %, paying `fee` in `fee_token`, at
    /// `u`'s current nonce, signed by `u` (unsigned if a field is not encodable).
    #[allow(clippy::too_many_arguments)]
    pub fn create_pool_tx(
        &self,
        u: &TestUser,
        token_a: u16,
        token_b: u16,
        fee_bps: u16,
        protocol_share: u8,
        fee_token: u16,
        fee: u128,
    ) -> L2Tx {
        let tx = L2Tx::CreatePool(CreatePool {
            account_id: self.id_of(u),
            sub_account_id: SubAccountId(0),
            kind: PoolKind::ConstantProduct,
            token_a: TokenId(token_a),
            token_b: TokenId(token_b),
            fee_bps,
            protocol_share,
            amp: 0,
            fee_token: TokenId(fee_token),
            fee,
            nonce: self.nonce_of(u),
            signature: TxSignature::default(),
        });
        signed(tx, &u.l2)
    }

    /// `u` (sub-account 0) adds at most `max_a` and `max_b` to `pool` for at least `min_shares`,
    /// paying `fee` in the pool's first token, valid at any time, at `u`'s current nonce, signed
    /// by `u` (unsigned if a field is not encodable).
    pub fn add_liquidity_tx(
        &self,
        u: &TestUser,
        pool: AccountId,
        max_a: u128,
        max_b: u128,
        min_shares: u128,
        fee: u128,
    ) -> L2Tx {
        let tx = L2Tx::AddLiquidity(AddLiquidity {
            account_id: self.id_of(u),
            sub_account_id: SubAccountId(0),
            pool,
            max_a,
            max_b,
            min_shares,
            fee_token: self.liquidity_fee_token(pool),
            fee,
            nonce: self.nonce_of(u),
            valid_from: 0,
            valid_until: u32::MAX,
            signature: TxSignature::default(),
        });
        signed(tx, &u.l2)
    }

    /// `u` (sub-account 0) burns `shares` of `pool` for at least `min_a` and `min_b`, paying `fee`
    /// in the pool's first token, valid at any time, at `u`'s current nonce, signed by `u`
    /// (unsigned if a field is not encodable).
    pub fn remove_liquidity_tx(
        &self,
        u: &TestUser,
        pool: AccountId,
        shares: u128,
        min_a: u128,
        min_b: u128,
        fee: u128,
    ) -> L2Tx {
        let tx = L2Tx::RemoveLiquidity(RemoveLiquidity {
            account_id: self.id_of(u),
            sub_account_id: SubAccountId(0),
            pool,
            shares,
            min_a,
            min_b,
            fee_token: self.liquidity_fee_token(pool),
            fee,
            nonce: self.nonce_of(u),
            valid_from: 0,
            valid_until: u32::MAX,
            signature: TxSignature::default(),
        });
        signed(tx, &u.l2)
    }

    /// `u` (sub-account 0) swaps against `pool`, paying in `token_in`: exact in (`amount` in, at
    /// least `limit` out) or, if `exact_out`, exact out (`amount` out, at most `limit` in), with a
    /// network fee of `fee` in `token_in`, valid at any time, at `u`'s current nonce, signed by `u`
    /// (unsigned if a field is not encodable).
    #[allow(clippy::too_many_arguments)]
    pub fn swap_tx(
        &self,
        u: &TestUser,
        pool: AccountId,
        token_in: u16,
        exact_out: bool,
        amount: u128,
        limit: u128,
        fee: u128,
    ) -> L2Tx {
        let tx = L2Tx::Swap(Swap {
            account_id: self.id_of(u),
            sub_account_id: SubAccountId(0),
            pool,
            token_in: TokenId(token_in),
            exact_out,
            amount,
            limit,
            fee,
            nonce: self.nonce_of(u),
            valid_from: 0,
            valid_until: u32::MAX,
            signature: TxSignature::default(),
        });
        signed(tx, &u.l2)
    }
}

/// `tx` (a pool tx with a validity window) with the window `valid_from ..= valid_until`, signed
/// again by `key` (unsigned if a field is not encodable); other txs are returned unchanged.
pub fn with_window(tx: L2Tx, key: &PrivateKey, valid_from: u32, valid_until: u32) -> L2Tx {
    let tx = match tx {
        L2Tx::AddLiquidity(t) => L2Tx::AddLiquidity(AddLiquidity { valid_from, valid_until, ..t }),
        L2Tx::RemoveLiquidity(t) => L2Tx::RemoveLiquidity(RemoveLiquidity { valid_from, valid_until, ..t }),
        L2Tx::Swap(t) => L2Tx::Swap(Swap { valid_from, valid_until, ..t }),
        other => return other,
    };
    signed(tx, key)
}
