//! The acknowledgement of a queued write ([`Ack`](crate::Ack)) and the mapping of the
//! writer's answers to each write method's result type.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::sync::oneshot;

use crate::error::{Error, ErrorKind, Result};
use crate::types::{ClipId, ClipState, CycleId, CycleRow, FailOutcome, ReconcileReport, SetTrack};
use crate::writer::{Out, Unawaited};

/// A queued write's acknowledgement.
///
/// The command is queued when the method returns, whether or not this is
/// awaited; awaiting resolves once the transaction holding it committed
/// (synchronous = FULL: durable) or failed. Dropping it does not cancel the
/// write.
///
/// A write whose `Ack` is not awaited is never lost silently: if it fails,
/// the failure is logged (`tracing::warn`, naming the clip and the command)
/// and counted in [`Store::unawaited_write_failures`](crate::Store::unawaited_write_failures). Say so explicitly
/// with [`submit`](Self::submit).
#[must_use = "the write is queued either way; await the Ack to know it is durable, or submit() it"]
#[derive(Debug)]
pub struct Ack<T> {
    pub(super) rx: Option<oneshot::Receiver<Result<Out>>>,
    pub(super) early: Option<Early>,
    pub(super) map: fn(Out) -> Result<T>,
}

/// A write refused before it reached the writer, with what is needed to
/// report it if nobody awaits the [`Ack`](crate::Ack).
#[derive(Debug)]
pub(super) struct Early {
    pub(super) error: Error,
    pub(super) unawaited: Arc<Unawaited>,
    pub(super) command: &'static str,
    pub(super) clip: Option<ClipId>,
}

impl<T> Ack<T> {
    /// Lets the write go on without waiting for it. If it fails (refused by
    /// the state machine, database locked past the retry budget, store
    /// closed), the failure is logged with the clip and the command and
    /// counted in [`Store::unawaited_write_failures`](crate::Store::unawaited_write_failures). Use it wherever an
    /// answer is not awaited (the same as dropping the `Ack`, but says so).
    pub fn submit(self) {}
}

impl<T> Drop for Ack<T> {
    fn drop(&mut self) {
        if let Some(e) = self.early.take() {
            e.unawaited.failed(e.command, e.clip, &e.error);
        }
        // A failure decided by the writer is reported there: its answer
        // finds this receiver gone.
    }
}

impl<T> Future for Ack<T> {
    type Output = Result<T>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        if let Some(e) = self.early.take() {
            return Poll::Ready(Err(e.error));
        }
        let map = self.map;
        let Some(rx) = self.rx.as_mut() else {
            return Poll::Ready(Err(ErrorKind::Closed.into()));
        };
        match Pin::new(rx).poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(r) => {
                self.rx = None;
                Poll::Ready(match r {
                    Ok(Ok(out)) => map(out),
                    Ok(Err(e)) => Err(e),
                    Err(_) => Err(ErrorKind::Closed.into()),
                })
            }
        }
    }
}

fn unexpected(out: Out) -> Error {
    Error::corrupt(format!("writer answered {out:?}"))
}

pub(super) fn out_unit(o: Out) -> Result<()> {
    match o {
        Out::Unit => Ok(()),
        other => Err(unexpected(other)),
    }
}

pub(super) fn out_fail(o: Out) -> Result<FailOutcome> {
    match o {
        Out::Fail(f) => Ok(f),
        other => Err(unexpected(other)),
    }
}

pub(super) fn out_fail_state(o: Out) -> Result<ClipState> {
    out_fail(o).map(FailOutcome::state)
}

pub(super) fn out_cycle_row(o: Out) -> Result<CycleRow> {
    match o {
        Out::CycleRow(r) => Ok(*r),
        other => Err(unexpected(other)),
    }
}

pub(super) fn out_cycle_done(o: Out) -> Result<()> {
    out_cycle_row(o).map(drop)
}

pub(super) fn out_count(o: Out) -> Result<u64> {
    match o {
        Out::Count(n) => Ok(n),
        other => Err(unexpected(other)),
    }
}

pub(super) fn out_cycle(o: Out) -> Result<CycleId> {
    match o {
        Out::Cycle(c) => Ok(c),
        other => Err(unexpected(other)),
    }
}

pub(super) fn out_reconcile(o: Out) -> Result<ReconcileReport> {
    match o {
        Out::Reconcile(r) => Ok(r),
        other => Err(unexpected(other)),
    }
}

pub(super) fn out_track(o: Out) -> Result<SetTrack> {
    match o {
        Out::Track(t) => Ok(t),
        other => Err(unexpected(other)),
    }
}
