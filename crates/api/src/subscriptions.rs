//! Subscriptions over WebSocket. Each follows the node's event stream: block events are forwarded
//! as they come; account and tx subscriptions recompute their view after every burst of events
//! and send it only when it changed, so a busy node costs a subscriber one view per burst, and a
//! reader that lagged behind the stream still gets the current view.

use jsonrpsee::core::SubscriptionResult;
use jsonrpsee::types::Params;
use jsonrpsee::{PendingSubscriptionSink, SubscriptionSink};
use serde::Serialize;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::sync::broadcast::Receiver;
use zklink_node::{NodeEvent, NodeHandle};
use zklink_types::api::{Stage, TxStatusView};
use zklink_types::{Address, TxHash};

use crate::{invalid, views, Context};

fn message(value: &impl Serialize) -> Result<Box<serde_json::value::RawValue>, serde_json::Error> {
    serde_json::value::to_raw_value(value)
}

/// Waits for the next event, then takes every event already queued. `false`: the stream ended.
async fn next_burst(rx: &mut Receiver<NodeEvent>) -> bool {
    if let Err(RecvError::Closed) = rx.recv().await {
        return false;
    }
    loop {
        match rx.try_recv() {
            Ok(_) | Err(TryRecvError::Lagged(_)) => {}
            Err(TryRecvError::Empty) => return true,
            Err(TryRecvError::Closed) => return false,
        }
    }
}

/// Sends `view()` now and whenever it changes, until `done` holds for a sent view, the client
/// goes away or the node stops.
async fn follow<T, F, D>(sink: SubscriptionSink, mut rx: Receiver<NodeEvent>, view: F, done: D) -> SubscriptionResult
where
    T: Serialize + PartialEq,
    F: Fn() -> Option<T>,
    D: Fn(&T) -> bool,
{
    let mut last: Option<T> = None;
    loop {
        if let Some(now) = view().filter(|v| last.as_ref() != Some(v)) {
            sink.send(message(&now)?).await?;
            if done(&now) {
                return Ok(());
            }
            last = Some(now);
        }
        tokio::select! {
            _ = sink.closed() => return Ok(()),
            more = next_burst(&mut rx) => if !more { return Ok(()) },
        }
    }
}

/// `zklink_subscribeBlocks`: block sealed, proven, and every L1 transaction the node sends.
pub async fn blocks(pending: PendingSubscriptionSink, node: NodeHandle) -> SubscriptionResult {
    let mut rx = node.subscribe();
    let sink = pending.accept().await?;
    loop {
        let event = tokio::select! {
            _ = sink.closed() => return Ok(()),
            e = rx.recv() => e,
        };
        match event {
            Ok(e @ (NodeEvent::BlockSealed { .. } | NodeEvent::BlockProven { .. } | NodeEvent::L1Sent { .. })) => {
                sink.send(message(&e)?).await?;
            }
            Ok(_) => {}
            Err(RecvError::Lagged(missed)) => {
                sink.send(message(&serde_json::json!({ "event": "lagged", "missed": missed }))?).await?;
            }
            Err(RecvError::Closed) => return Ok(()),
        }
    }
}

/// `zklink_subscribeAccount [address]`: the account view whenever it changes.
pub async fn account(params: Params<'static>, pending: PendingSubscriptionSink, ctx: &Context) -> SubscriptionResult {
    let (address,): (Address,) = match params.parse() {
        Ok(p) => p,
        Err(e) => {
            pending.reject(invalid("[address]", e)).await;
            return Ok(());
        }
    };
    let rx = ctx.node.subscribe();
    let sink = pending.accept().await?;
    follow(
        sink,
        rx,
        || views::account(&ctx.node, views::AccountRef::Address(address), views::StateView::Latest),
        |_| false,
    )
    .await
}

/// `zklink_subscribeTx [hash]`: the tx's status whenever it changes; ends once it is executed on
/// every chain or failed.
pub async fn tx(params: Params<'static>, pending: PendingSubscriptionSink, ctx: &Context) -> SubscriptionResult {
    let (hash,): (TxHash,) = match params.parse() {
        Ok(p) => p,
        Err(e) => {
            pending.reject(invalid("[tx hash]", e)).await;
            return Ok(());
        }
    };
    let rx = ctx.node.subscribe();
    let sink = pending.accept().await?;
    let view = || views::tx_status(&ctx.node, hash).ok().flatten();
    let done = |s: &TxStatusView| s.failed.is_some() || s.stage == Stage::Executed;
    follow(sink, rx, view, done).await
}
