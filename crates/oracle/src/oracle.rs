//! The oracle's loop. Each pass:
//! 1. reads every chain through this oracle's own endpoints: its `BlockCommit` events (each the
//!    block as stored) and its counters;
//! 2. attests, in order, every block proven on all chains after the newest one synced everywhere,
//!    but only if each chain stores the block (the event's info hashes to `storedBlockHashes`)
//!    and all of them with the same sync hash; at the first disagreement it stops attesting and
//!    reports the inconsistency;
//! 3. gathers its peers' attestations, keeping those that verify, come from a member of the chain's
//!    oracle set and attest the sync hash it computed itself;
//! 4. submits `syncBlocks` on every chain behind, for the newest block with enough attestations.
//!
//! It trusts neither the operator nor its peers: it signs only what it read from every chain, and a
//! peer's attestation counts only if it attests the same hash. Several oracles submitting the same
//! sync is harmless (the contract refuses a block already synced).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use alloy::primitives::{Address, Bytes, B256};
use alloy::signers::local::PrivateKeySigner;
use jsonrpsee::core::client::ClientT;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use jsonrpsee::rpc_params;
use serde::Serialize;
use zklink_contracts::zklink::{stored_block_hash, StoredBlockInfo, ZkLink};
use zklink_l1::client::connect;
pub use zklink_l1::ChainEndpoint;
use zklink_l1::{BlockCounters, EventReader, L1Client, L1Error, Revert, SendPolicy};
use zklink_types::Network;

use crate::attestation::Attestation;
use crate::metrics::OracleMetrics;
use crate::store::{OracleStore, StoreError};

/// Attestations a peer returns per request at most.
pub const MAX_ATTESTATIONS: usize = 256;

/// What an oracle runs with.
pub struct OracleConfig {
    /// The network (its id and chains).
    pub network: Network,
    /// One endpoint per chain, in chain order.
    pub chains: Vec<ChainEndpoint>,
    /// The oracle's key: it signs attestations and pays for `syncBlocks`.
    pub key: PrivateKeySigner,
    /// The other oracles' APIs.
    pub peers: Vec<String>,
    /// Where its store lives.
    pub data_dir: PathBuf,
    /// Confirmations before a `BlockCommit` event is read.
    pub confirmations: u64,
    /// Pause between passes.
    pub poll_interval: Duration,
    /// How `syncBlocks` is sent.
    pub send_policy: SendPolicy,
}

/// Errors of the oracle.
#[derive(thiserror::Error, Debug)]
pub enum OracleError {
    /// The configuration is inconsistent.
    #[error("oracle configuration: {0}")]
    Config(String),
    /// Its store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A chain failed.
    #[error("chain {chain}: {source}")]
    L1 {
        /// The zklink chain id.
        chain: u8,
        /// What happened.
        source: Box<L1Error>,
    },
}

/// Two chains store a block with different sync hashes: their histories differ and the oracle
/// attests nothing from this block on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Inconsistency {
    /// The block.
    pub block: u32,
    /// Each chain's sync hash for it.
    pub sync_hashes: Vec<(u8, B256)>,
}

/// What the oracle knows, for its API.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OracleStatus {
    /// Its address.
    pub address: Address,
    /// The newest block it attested.
    pub last_attested: u32,
    /// Each chain's counters as last read: `[committed, proven, synced, executed]`.
    pub chains: Vec<(u8, [u32; 4])>,
    /// The disagreement that stopped it, if any.
    pub inconsistency: Option<Inconsistency>,
    /// The last pass's error.
    pub error: Option<String>,
}

/// What one pass did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PassReport {
    /// Blocks attested.
    pub attested: Vec<u32>,
    /// `(chain, block)` synced by this oracle's transactions.
    pub synced: Vec<(u8, u32)>,
}

/// Shared with the API.
#[derive(Clone)]
pub struct OracleHandle {
    /// Its attestations.
    pub store: Arc<OracleStore>,
    /// Its status.
    pub status: Arc<RwLock<OracleStatus>>,
    /// Its metrics.
    pub metrics: Arc<OracleMetrics>,
}

struct ChainWatch {
    chain: u8,
    client: L1Client,
    events: EventReader,
    /// Every `BlockCommit` seen, by block (a reverted block may have been committed again).
    infos: BTreeMap<u32, Vec<StoredBlockInfo>>,
}

impl ChainWatch {
    fn l1(&self, source: L1Error) -> OracleError {
        OracleError::L1 { chain: self.chain, source: Box::new(source) }
    }

    async fn refresh(&mut self) -> Result<BlockCounters, OracleError> {
        let events = self.events.poll().await.map_err(|e| self.l1(e))?;
        for e in events {
            if let ZkLink::ZkLinkEvents::BlockCommit(c) = e.event {
                self.infos.entry(c.blockNumber).or_default().push(c.info);
            }
        }
        self.client.block_counters().await.map_err(|e| self.l1(e))
    }

    /// Block `n` as this chain stores it, if a `BlockCommit` event of it was read.
    async fn stored(&self, n: u32) -> Result<Option<StoredBlockInfo>, OracleError> {
        let Some(candidates) = self.infos.get(&n) else { return Ok(None) };
        let hash = self.client.stored_block_hash(n).await.map_err(|e| self.l1(e))?;
        Ok(candidates.iter().rev().find(|i| stored_block_hash(i) == hash).cloned())
    }

    /// Whether `signer` is in this chain's oracle set.
    async fn is_oracle(&self, signer: Address) -> Result<bool, OracleError> {
        self.client.zklink().isOracle(signer).call().await.map_err(|e| self.l1(L1Error::from_contract("isOracle", e)))
    }

    async fn threshold(&self) -> Result<u16, OracleError> {
        let call = self.client.zklink().oracleThreshold().call().await;
        call.map_err(|e| self.l1(L1Error::from_contract("oracleThreshold", e)))
    }
}

/// An independent oracle.
pub struct Oracle {
    network_id: u32,
    key: PrivateKeySigner,
    chains: Vec<ChainWatch>,
    peers: Vec<(String, HttpClient)>,
    poll_interval: Duration,
    handle: OracleHandle,
}

impl Oracle {
    /// Opens the oracle's store and connects to every chain and peer.
    pub fn open(cfg: OracleConfig) -> Result<Self, OracleError> {
        if cfg.chains.len() != cfg.network.chains.len() {
            let (got, want) = (cfg.chains.len(), cfg.network.chains.len());
            return Err(OracleError::Config(format!("{got} chain endpoints for {want} chains")));
        }
        std::fs::create_dir_all(&cfg.data_dir)
            .map_err(|e| OracleError::Config(format!("{}: {e}", cfg.data_dir.display())))?;
        let store = Arc::new(OracleStore::open(&cfg.data_dir.join("oracle.redb"))?);
        let chains = cfg
            .network
            .chains
            .iter()
            .zip(&cfg.chains)
            .map(|(info, end)| {
                let provider = connect(end.url.clone(), cfg.key.clone());
                ChainWatch {
                    chain: info.id.0,
                    events: EventReader::new(provider.clone(), end.zklink, end.deployed_at, cfg.confirmations),
                    client: L1Client::new(provider, end.zklink).with_policy(cfg.send_policy.clone()),
                    infos: BTreeMap::new(),
                }
            })
            .collect();
        let peers = cfg
            .peers
            .iter()
            .map(|url| {
                let client = HttpClientBuilder::default()
                    .request_timeout(Duration::from_secs(10))
                    .build(url)
                    .map_err(|e| OracleError::Config(format!("peer {url}: {e}")))?;
                Ok((url.clone(), client))
            })
            .collect::<Result<_, OracleError>>()?;
        let status = OracleStatus { address: cfg.key.address(), last_attested: store.last()?, ..Default::default() };
        Ok(Self {
            network_id: cfg.network.network_id,
            key: cfg.key,
            chains,
            peers,
            poll_interval: cfg.poll_interval,
            handle: OracleHandle {
                store,
                status: Arc::new(RwLock::new(status)),
                metrics: Arc::new(OracleMetrics::new()),
            },
        })
    }

    /// The handles the API serves.
    pub fn handle(&self) -> OracleHandle {
        self.handle.clone()
    }

    /// This oracle's address.
    pub fn address(&self) -> Address {
        self.key.address()
    }

    /// Runs passes until `shutdown` resolves; a failed pass is logged and retried.
    pub async fn run(mut self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            match self.step().await {
                Ok(r) if !r.attested.is_empty() || !r.synced.is_empty() => {
                    tracing::info!(attested = ?r.attested, synced = ?r.synced, "oracle pass");
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "oracle pass failed; retrying");
                    self.handle.metrics.errors.inc();
                    self.status_mut().error = Some(e.to_string());
                }
            }
            tokio::select! {
                _ = &mut shutdown => break,
                _ = tokio::time::sleep(self.poll_interval) => {}
            }
        }
        tracing::info!("oracle stopped");
    }

    fn status_mut(&self) -> std::sync::RwLockWriteGuard<'_, OracleStatus> {
        self.handle.status.write().unwrap_or_else(|p| p.into_inner())
    }

    /// One pass: read, attest, gather, submit.
    pub async fn step(&mut self) -> Result<PassReport, OracleError> {
        let mut counters = Vec::with_capacity(self.chains.len());
        for c in &mut self.chains {
            counters.push(c.refresh().await?);
        }
        let proven = counters.iter().map(|k| k.proven).min().unwrap_or(0);
        let synced = counters.iter().map(|k| k.synced).min().unwrap_or(0);
        let mut report = PassReport { attested: self.attest(synced, proven).await?, ..Default::default() };
        self.record(&counters)?;
        let pool = self.gather(synced).await?;
        let mut failed = None;
        for (c, k) in self.chains.iter().zip(&counters) {
            // One chain failing does not keep the others from syncing.
            match submit(c, k.synced, &pool).await {
                Ok(Some(block)) => report.synced.push((c.chain, block)),
                Ok(None) => {}
                Err(e) => failed = Some(e),
            }
        }
        match failed {
            Some(e) => Err(e),
            None => {
                self.status_mut().error = None;
                Ok(report)
            }
        }
    }

    /// Publishes the counters and the newest attestation in the status and metrics.
    fn record(&self, counters: &[BlockCounters]) -> Result<(), OracleError> {
        let last = self.handle.store.last()?;
        let mut status = self.status_mut();
        status.chains = self
            .chains
            .iter()
            .zip(counters)
            .map(|(c, k)| (c.chain, [k.committed, k.proven, k.synced, k.executed]))
            .collect();
        status.last_attested = last;
        self.handle.metrics.last_attested.set(i64::from(last));
        Ok(())
    }

    /// Attests blocks `synced+1..=proven` in order, each only once every chain stores it with the
    /// same sync hash.
    async fn attest(&mut self, synced: u32, proven: u32) -> Result<Vec<u32>, OracleError> {
        let mut attested = Vec::new();
        for n in synced + 1..=proven {
            let mut hashes = Vec::with_capacity(self.chains.len());
            for c in &self.chains {
                match c.stored(n).await? {
                    Some(info) => hashes.push((c.chain, info.syncHash)),
                    // Its commit event is not confirmed yet on this chain: next pass.
                    None => return Ok(attested),
                }
            }
            let hash = hashes[0].1;
            if hashes.iter().any(|(_, h)| *h != hash) {
                self.refuse(Inconsistency { block: n, sync_hashes: hashes });
                return Ok(attested);
            }
            match self.handle.store.get(n)? {
                Some(a) if a.sync_hash == hash => continue,
                Some(a) => {
                    // The block was reverted and committed again everywhere: attest the new one.
                    tracing::warn!(block = n, old = %a.sync_hash, new = %hash, "block re-committed with another sync hash");
                }
                None => {}
            }
            let a = Attestation::sign(&self.key, self.network_id, n, hash);
            self.handle.store.put(&a)?;
            self.handle.metrics.attestations.inc();
            attested.push(n);
        }
        if self.status_mut().inconsistency.take().is_some() {
            tracing::info!("the chains agree again");
        }
        Ok(attested)
    }

    fn refuse(&self, i: Inconsistency) {
        let mut status = self.status_mut();
        if status.inconsistency.as_ref() != Some(&i) {
            tracing::error!(block = i.block, hashes = ?i.sync_hashes, "the chains store different histories: not attesting");
            self.handle.metrics.inconsistencies.inc();
        }
        status.inconsistency = Some(i);
    }

    /// This oracle's attestations after `synced` and its peers' that attest the same hashes, by
    /// block and signer.
    async fn gather(&self, synced: u32) -> Result<BTreeMap<u32, HashMap<Address, Attestation>>, OracleError> {
        let mut pool: BTreeMap<u32, HashMap<Address, Attestation>> = BTreeMap::new();
        let own = self.handle.store.from(synced + 1, MAX_ATTESTATIONS)?;
        let ours: HashMap<u32, B256> = own.iter().map(|a| (a.block, a.sync_hash)).collect();
        for a in own {
            pool.entry(a.block).or_default().insert(a.signer, a);
        }
        for (url, peer) in &self.peers {
            let theirs: Vec<Attestation> = match peer.request("oracle_attestations", rpc_params![synced + 1]).await {
                Ok(v) => v,
                Err(e) => {
                    tracing::debug!(peer = %url, error = %e, "peer unreachable");
                    continue;
                }
            };
            for a in theirs.into_iter().take(MAX_ATTESTATIONS) {
                let agrees = ours.get(&a.block) == Some(&a.sync_hash);
                match a.verify(self.network_id) {
                    Ok(()) if agrees => {
                        pool.entry(a.block).or_default().insert(a.signer, a);
                    }
                    Ok(()) => {
                        tracing::warn!(peer = %url, block = a.block, hash = %a.sync_hash, "a peer attests another sync hash");
                        self.handle.metrics.refused_attestations.inc();
                    }
                    Err(e) => {
                        tracing::warn!(peer = %url, error = %e, "a peer's attestation does not verify");
                        self.handle.metrics.refused_attestations.inc();
                    }
                }
            }
        }
        Ok(pool)
    }
}

/// Syncs chain `c` (synced up to `synced`) to the newest block of `pool` that has enough
/// attestations from its oracle set; returns that block if this oracle's transaction did it.
async fn submit(
    c: &ChainWatch,
    synced: u32,
    pool: &BTreeMap<u32, HashMap<Address, Attestation>>,
) -> Result<Option<u32>, OracleError> {
    // Nothing newer than the chain's sync: no reason to read its oracle set.
    if pool.range(synced + 1..).next().is_none() {
        return Ok(None);
    }
    let threshold = c.threshold().await?;
    if threshold == 0 {
        return Ok(None);
    }
    for (&block, attestations) in pool.range(synced + 1..).rev() {
        if attestations.len() < usize::from(threshold) {
            continue;
        }
        let mut members = Vec::new();
        for a in attestations.values() {
            if c.is_oracle(a.signer).await? {
                members.push(a);
            }
        }
        if members.len() < usize::from(threshold) {
            continue;
        }
        // The contract wants ascending signers.
        members.sort_by_key(|a| a.signer);
        let Some(info) = c.stored(block).await? else { continue };
        let signatures: Vec<Bytes> = members.iter().map(|a| a.signature.clone()).collect();
        return match c.client.sync_blocks(&info, signatures).await {
            Ok(_) => Ok(Some(block)),
            // Another oracle was faster (seen in simulation, or as a revert once mined): harmless.
            Err(L1Error::Reverted { revert: Revert::ZkLink(ZkLink::ZkLinkErrors::AlreadySynced(_)), .. }) => Ok(None),
            Err(e) => match c.client.block_counters().await {
                Ok(k) if k.synced >= block => Ok(None),
                _ => Err(c.l1(e)),
            },
        };
    }
    Ok(None)
}
