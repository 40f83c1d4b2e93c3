//! A user's way out when the operator stops or censors (`zklink wallet exodus`): on every chain,
//! switch to exodus once a request has expired, refund the deposits no executed block took,
//! prove and submit each of the user's exits against the chain's last executed root, and claim
//! what was credited.

use std::collections::BTreeSet;

use alloy::primitives::{keccak256, B256};
use zklink_l1::{ExitCall, L1Client, L1Error, QueuedRequest};
use zklink_prover::ProvingKey;
use zklink_types::op::op_code;
use zklink_types::{Address, ChainId, STABLECOIN_RANGE, USD_RESERVE_OFFSET, USD_TOKEN_ID};

use crate::{ExitPlan, ExitProofError, RestoreError, Restorer};

/// Why an exodus run stopped.
#[derive(thiserror::Error, Debug)]
pub enum ExodusError {
    /// Reading the chains or the restored state failed.
    #[error(transparent)]
    Restore(#[from] RestoreError),
    /// An exit could not be proven.
    #[error(transparent)]
    Exit(#[from] ExitProofError),
    /// An L1 call failed.
    #[error("chain {chain}: {source}")]
    L1 {
        /// The chain.
        chain: u8,
        /// What failed.
        #[source]
        source: L1Error,
    },
    /// One signing client per chain is needed.
    #[error("{got} signing clients for {chains} chains")]
    Clients {
        /// Clients given.
        got: usize,
        /// Chains of the network.
        chains: usize,
    },
}

/// Where one chain stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExodusStatus {
    /// It was already in exodus.
    Active,
    /// This run switched it to exodus.
    Activated,
    /// It cannot switch yet; why, and what to do.
    NotYet(String),
}

/// What one chain did for the user.
#[derive(Clone, Debug)]
pub struct ChainExodus {
    /// The chain.
    pub chain: u8,
    /// Its exodus status.
    pub status: ExodusStatus,
    /// The block whose root the exits were proven against.
    pub block: u32,
    /// Exits submitted in this run.
    pub exits: Vec<ExitCall>,
    /// The user's exits that had already been paid.
    pub already_paid: usize,
    /// Unexecuted requests refunded (everyone's: the call takes the oldest in order).
    pub refunded: usize,
    /// What the user claimed: (L1 token, L1 units).
    pub claimed: Vec<(u16, u128)>,
    /// Seconds spent proving.
    pub prove_secs: f64,
    /// Set when the exits were not made: the chain pays against this block (its newest executed
    /// one) and the restored state is at another; run again with a state restored to it.
    pub needs_block: Option<u32>,
}

/// `keccak256(account u32 ‖ sub u8 ‖ l2_token u16 ‖ reserve_token u16)`: the contract's once-only key.
pub fn exodus_key(call: &ExitCall) -> B256 {
    let mut bytes = Vec::with_capacity(9);
    bytes.extend_from_slice(&call.account.to_be_bytes());
    bytes.push(call.sub);
    bytes.extend_from_slice(&call.l2_token.to_be_bytes());
    bytes.extend_from_slice(&call.reserve_token.to_be_bytes());
    keccak256(bytes)
}

/// The L1 token an exit pays in: the token itself, or for USD the stablecoin of its reserve.
pub fn exit_l1_token(call: &ExitCall) -> u16 {
    if call.l2_token == USD_TOKEN_ID.0 {
        call.reserve_token + USD_RESERVE_OFFSET
    } else {
        call.l2_token
    }
}

/// Runs the exodus of `owner` on every chain, with `clients[i]` signing for chain i (any funded
/// key may send; payments go to the owner). Exits are made on the chains whose newest executed
/// block is the restored one; the others report the block they need (`needs_block`).
pub async fn exodus(
    restorer: &mut Restorer,
    clients: &[L1Client],
    owner: Address,
    pk: &ProvingKey,
) -> Result<Vec<ChainExodus>, ExodusError> {
    let chains = restorer.network().chains.len();
    if clients.len() != chains {
        return Err(ExodusError::Clients { got: clients.len(), chains });
    }
    restorer.refresh().await?;
    let mut out = Vec::new();
    for (i, client) in clients.iter().enumerate() {
        let chain = restorer.histories()[i].chain();
        let l1 = |source| ExodusError::L1 { chain: chain.0, source };
        let status = match activate(restorer, i, client).await.map_err(l1)? {
            ExodusStatus::NotYet(why) if restorer.histories()[i].open_requests().next().is_none() => {
                ExodusStatus::NotYet(start_clock(restorer, i, client, owner).await.map_err(l1)?.unwrap_or(why))
            }
            other => other,
        };
        let mut report = ChainExodus {
            chain: chain.0,
            status: status.clone(),
            block: restorer.histories()[i].counters().executed,
            exits: Vec::new(),
            already_paid: 0,
            refunded: 0,
            claimed: Vec::new(),
            prove_secs: 0.0,
            needs_block: None,
        };
        if matches!(status, ExodusStatus::NotYet(_)) {
            out.push(report);
            continue;
        }
        // Activation changed this chain only.
        restorer.refresh_chain(i).await?;
        let open: Vec<QueuedRequest> = restorer.histories()[i].open_requests().cloned().collect();
        let mut tokens: BTreeSet<u16> = open.iter().filter_map(|r| refund_token(r, owner)).collect();
        if !open.is_empty() {
            client.cancel_outstanding_deposits(open.iter().map(|r| r.pubdata.clone()).collect()).await.map_err(l1)?;
            report.refunded = open.len();
        }
        if report.block == restorer.block() {
            perform_exits(restorer, i, client, owner, pk, &mut report).await?;
        } else {
            report.needs_block = Some(report.block);
        }
        tokens.extend(report.exits.iter().map(exit_l1_token));
        for token in tokens {
            let pending = client.pending_balance(owner, token).await.map_err(l1)?;
            if pending > 0 {
                client.withdraw_pending_balance(owner, token, pending).await.map_err(l1)?;
                report.claimed.push((token, pending));
            }
        }
        out.push(report);
    }
    Ok(out)
}

/// Switches chain `i` to exodus if it is not yet and a request there has expired.
async fn activate(restorer: &Restorer, i: usize, client: &L1Client) -> Result<ExodusStatus, L1Error> {
    let history = &restorer.histories()[i];
    if history.exodus() {
        return Ok(ExodusStatus::Active);
    }
    match client.activate_exodus().await {
        Ok(_) => Ok(ExodusStatus::Activated),
        Err(e) => match e.zklink_revert() {
            Some(zklink_contracts::zklink::ZkLink::ZkLinkErrors::NotExpired(n)) => {
                let chain = history.chain().0;
                Ok(ExodusStatus::NotYet(if history.open_requests().next().is_none() {
                    format!(
                        "no request is waiting on chain {chain}: request a full exit there (`zklink wallet \
                         full-exit --chain {chain}`) and run this again once it expires"
                    )
                } else {
                    format!("request {} expires at L1 block {}", n.serialId, n.expirationBlock)
                }))
            }
            _ => Err(e),
        },
    }
}

/// With no request waiting on chain `i`, nothing can ever expire there: requests a full exit of
/// one of `owner`'s balances so that the chain can switch to exodus once it expires. Returns what
/// was done, or `None` if `owner` holds nothing this chain can exit.
async fn start_clock(
    restorer: &Restorer,
    i: usize,
    client: &L1Client,
    owner: Address,
) -> Result<Option<String>, L1Error> {
    let chain = restorer.histories()[i].chain();
    let state = restorer.state();
    let Some(account) = state.account_id_by_address(&owner) else { return Ok(None) };
    let Some(a) = state.account(account) else { return Ok(None) };
    let preset = state.preset();
    let network = restorer.network();
    let listed = |t: u16| network.token_on_chain(zklink_types::TokenId(t), chain).is_ok();
    let exitable = a.balances.leaves().into_iter().find_map(|(index, _)| {
        let (zklink_types::SubAccountId(sub), zklink_types::TokenId(token)) = preset.split_balance_index(index);
        // USD leaves as any stablecoin listed here; reserve ids 2..=16 are never user balances.
        let l1 = match token {
            t if t == USD_TOKEN_ID.0 => STABLECOIN_RANGE.clone().find(|&s| listed(s))?,
            t if t >= *STABLECOIN_RANGE.start() => t,
            _ => return None,
        };
        listed(l1).then_some((sub, l1, token))
    });
    let Some((sub, l1, l2)) = exitable else { return Ok(None) };
    client.request_full_exit(account.0, sub, l1, l2).await?;
    let expiry = client.zklink().PRIORITY_EXPIRATION_BLOCKS().call().await;
    let expiry = expiry.map_err(|e| L1Error::from_contract("PRIORITY_EXPIRATION_BLOCKS", e))?;
    Ok(Some(format!(
        "no request was waiting on chain {}, so a full exit of token {l2} was requested there to start its \
         clock; run this again in {expiry} L1 blocks, once it has expired",
        chain.0
    )))
}

/// Proves and submits every exit of `owner` on chain `i` not paid yet.
async fn perform_exits(
    restorer: &mut Restorer,
    i: usize,
    client: &L1Client,
    owner: Address,
    pk: &ProvingKey,
    report: &mut ChainExodus,
) -> Result<(), ExodusError> {
    let history = &restorer.histories()[i];
    let chain: ChainId = history.chain();
    let executed = history.counters().executed;
    let last = history.stored(executed).cloned().ok_or(RestoreError::NotExecuted { target: executed, executed })?;
    let Some(account) = restorer.state().account_id_by_address(&owner) else { return Ok(()) };
    let (block, network) = (restorer.block(), restorer.network().clone());
    let mut plan = ExitPlan::for_chain(restorer.state_mut(), block, &network, chain, last.clone())?;
    let l1 = |source| ExodusError::L1 { chain: chain.0, source };
    for req in plan.requests(account) {
        let key_call = ExitCall {
            owner,
            account: req.account.0,
            sub: req.sub.0,
            l2_token: req.l2_token.0,
            reserve_token: req.reserve_token.0,
            amount: 0,
        };
        let paid = client.zklink().exodusPerformed(exodus_key(&key_call)).call().await;
        if paid.map_err(|e| l1(L1Error::from_contract("exodusPerformed", e)))? {
            report.already_paid += 1;
            continue;
        }
        let proven = plan.prove(pk, &req)?;
        report.prove_secs += (proven.report.synthesis + proven.report.check + proven.report.proving).as_secs_f64();
        client.perform_exodus(&last, &proven.call, proven.proof).await.map_err(l1)?;
        report.exits.push(proven.call);
    }
    Ok(())
}

/// The L1 token `request` refunds to `owner`, if it is one of `owner`'s deposits.
fn refund_token(request: &QueuedRequest, owner: Address) -> Option<u16> {
    let p = &request.pubdata;
    if request.op_type != op_code::DEPOSIT || p.len() < 47 || Address::from_slice(&p[27..47]) != owner {
        return None;
    }
    // The L1 token (bytes 7..9): a stablecoin credited as USD is refunded as itself.
    Some(u16::from_be_bytes([p[7], p[8]]))
}
