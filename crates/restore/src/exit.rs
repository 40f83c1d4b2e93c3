//! Exit proofs from a restored state (docs/protocol.md §11): what an account can claim on a
//! chain in exodus mode, and the Groth16 proof `performExodus` verifies.
//!
//! A chain pays against the root of the block it executed last, so the proof must be made on
//! the state as of that block: [`ExitPlan::for_chain`] refuses a state at any other block.

use alloy::primitives::U256;
use zklink_circuit::exit::{ExitCircuit, ExitError, ExitRequest, ExitShape, ExitWitness};
use zklink_contracts::verifier::proof_to_evm;
use zklink_contracts::zklink::StoredBlockInfo;
use zklink_l1::ExitCall;
use zklink_prover::{ProveReport, ProverError, ProvingKey};
use zklink_state::State;
use zklink_types::{
    AccountId, ChainId, Network, SubAccountId, TokenId, GLOBAL_ASSET_ACCOUNT_ID, STABLECOIN_RANGE, USD_RESERVE_RANGE,
    USD_TOKEN_ID,
};

/// Why an exit could not be planned or proven.
#[derive(thiserror::Error, Debug)]
pub enum ExitProofError {
    /// The state is not at the block the chain pays against.
    #[error(
        "chain {chain} pays against block {executed}, its newest executed block, but the state is at block \
         {restored}; restore with --until {executed} (into its own state file) first"
    )]
    WrongBlock {
        /// The chain.
        chain: u8,
        /// Its newest executed block.
        executed: u32,
        /// The state's block.
        restored: u32,
    },
    /// The witness could not be built (unknown account, bad tokens, …).
    #[error(transparent)]
    Witness(#[from] ExitError),
    /// Proving failed.
    #[error("proving the exit: {0}")]
    Prove(#[from] ProverError),
}

/// One exit proven: the `performExodus` arguments.
#[derive(Clone, Debug)]
pub struct ProvenExit {
    /// The claim as `performExodus` takes it.
    pub call: ExitCall,
    /// The proof, in the verifier contract's encoding.
    pub proof: [U256; 8],
    /// Where the proving time went.
    pub report: ProveReport,
}

/// The exits of one chain against one state.
pub struct ExitPlan<'a> {
    state: &'a mut State,
    chain: ChainId,
    chains: u8,
    last_executed: StoredBlockInfo,
}

impl<'a> ExitPlan<'a> {
    /// Exits on `chain`, whose newest executed block is `last_executed`, from `state` at block
    /// `state_block` (which must be that block).
    pub fn for_chain(
        state: &'a mut State,
        state_block: u32,
        network: &Network,
        chain: ChainId,
        last_executed: StoredBlockInfo,
    ) -> Result<Self, ExitProofError> {
        if state_block != last_executed.blockNumber {
            return Err(ExitProofError::WrongBlock {
                chain: chain.0,
                executed: last_executed.blockNumber,
                restored: state_block,
            });
        }
        Ok(Self { state, chain, chains: network.chains.len() as u8, last_executed })
    }

    /// The block the chain pays against.
    pub fn last_executed(&self) -> &StoredBlockInfo {
        &self.last_executed
    }

    /// Every claim `account` has on this chain with a non-zero share: per sub-account, each token
    /// balance it holds, from that token's reserve here, for USD each stablecoin reserve here, and
    /// for LP shares each of the pool's two tokens (USD: each stablecoin reserve) here.
    pub fn requests(&self, account: AccountId) -> Vec<ExitRequest> {
        let Some(a) = self.state.account(account) else { return Vec::new() };
        let preset = self.state.preset();
        let reserves = self.chain.as_sub_account();
        let reserve = |token: u16| self.state.balance(GLOBAL_ASSET_ACCOUNT_ID, reserves, TokenId(token));
        let mut out = Vec::new();
        for (index, _) in a.balances.leaves() {
            let (SubAccountId(sub), TokenId(token)) = preset.split_balance_index(index);
            let request = |reserve_token: u16| ExitRequest {
                chain: self.chain,
                account,
                sub: SubAccountId(sub),
                l2_token: TokenId(token),
                reserve_token: TokenId(reserve_token),
            };
            // What the balance is paid from: USD from the stablecoin reserves, LP shares from
            // those of the pool's two tokens, any other token from its own reserve.
            let underlying = if preset.is_lp_token(TokenId(token)) {
                let pool = self.state.pool_of_lp_token(TokenId(token)).and_then(|p| self.state.pool(p));
                pool.map_or_else(Vec::new, |(p, _)| vec![p.token_a.0, p.token_b.0])
            } else {
                vec![token]
            };
            for u in underlying {
                if u == USD_TOKEN_ID.0 {
                    out.extend(USD_RESERVE_RANGE.filter(|&r| reserve(r) > 0).map(request));
                } else if u >= *STABLECOIN_RANGE.start() && reserve(u) > 0 {
                    out.push(request(u));
                }
            }
        }
        out
    }

    /// Builds the witness of `req` and proves it with `pk` (the exit circuit's key).
    pub fn prove(&mut self, pk: &ProvingKey, req: &ExitRequest) -> Result<ProvenExit, ExitProofError> {
        let witness = ExitWitness::build(self.state, self.chains, req)?;
        let claim = witness.claim.clone();
        let shape = ExitShape::new(self.state.preset(), self.chains)?;
        let circuit = ExitCircuit::new(shape, witness)?;
        let (proof, report) = zklink_prover::prove_with_report(pk, circuit)?;
        let call = ExitCall {
            owner: claim.owner,
            account: claim.account.0,
            sub: claim.sub.0,
            l2_token: claim.l2_token.0,
            reserve_token: claim.reserve_token.0,
            amount: claim.amount,
        };
        Ok(ProvenExit { call, proof: proof_to_evm(&proof), report })
    }
}
