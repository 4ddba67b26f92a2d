//! The connection limiter shared by a [`Client`](crate::Client) and its
//! clones.
//!
//! At most `max` requests are in flight at once (the camera resets
//! connections above about 3). Three classes share the permits, highest
//! priority first; within a class, requests are served in arrival order:
//!
//! 1. **normal** (downloads, HEAD, listings, probes, info): served first
//!    and may use every permit;
//! 2. **delete** (cmd 4003, about 2 s each on a real camera): served only
//!    when no normal request is waiting, and never more than `max - 1` at
//!    once (1 when `max` is 1), so with `max >= 2` one permit is always
//!    kept for downloads and a slow delete queue can never starve them;
//! 3. **range** (ranged reads for GPS triage, and their HEAD): served only
//!    when no normal and no delete request is waiting, and never with the
//!    last free permit: one is granted only while at least one other permit
//!    stays free after it (with `max` 1, only when the permit is free).
//!    With `max >= 2` a download that arrives always finds a permit, and
//!    triage never holds one a waiting download could have had.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::oneshot;

/// Which queue a request waits in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Class {
    Normal,
    Delete,
    Range,
}

#[derive(Debug)]
struct State {
    max: usize,
    /// The highest `max` proven to work: the configured one, or a lower
    /// one the camera was seen to take after refusing more
    /// ([`Limiter::refused`], [`Limiter::answered`]).
    confirmed: usize,
    /// The limit asked for.
    configured: usize,
    delete_cap: usize,
    in_use: usize,
    deletes_in_use: usize,
    peak: usize,
    normal_q: VecDeque<oneshot::Sender<Permit>>,
    delete_q: VecDeque<oneshot::Sender<Permit>>,
    range_q: VecDeque<oneshot::Sender<Permit>>,
}

/// Priority-aware connection limiter (cheap to clone; clones share state).
#[derive(Clone, Debug)]
pub(crate) struct Limiter {
    state: Arc<Mutex<State>>,
}

/// One connection slot; released on drop.
#[derive(Debug)]
pub(crate) struct Permit {
    state: Arc<Mutex<State>>,
    class: Class,
    armed: bool,
}

fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl State {
    fn can_take(&self, class: Class) -> bool {
        self.in_use < self.max
            && match class {
                Class::Normal => true,
                Class::Delete => self.deletes_in_use < self.delete_cap,
                // Never the last free permit (unless there is only one).
                Class::Range => self.max == 1 || self.in_use + 1 < self.max,
            }
    }

    /// Nobody of this class or a higher one is waiting.
    fn nobody_ahead(&self, class: Class) -> bool {
        match class {
            Class::Normal => self.normal_q.is_empty(),
            Class::Delete => self.normal_q.is_empty() && self.delete_q.is_empty(),
            Class::Range => {
                self.normal_q.is_empty() && self.delete_q.is_empty() && self.range_q.is_empty()
            }
        }
    }

    fn queue(&mut self, class: Class) -> &mut VecDeque<oneshot::Sender<Permit>> {
        match class {
            Class::Normal => &mut self.normal_q,
            Class::Delete => &mut self.delete_q,
            Class::Range => &mut self.range_q,
        }
    }
    fn take(&mut self, class: Class) {
        self.in_use += 1;
        if class == Class::Delete {
            self.deletes_in_use += 1;
        }
        self.peak = self.peak.max(self.in_use);
    }
    fn give_back(&mut self, class: Class) {
        self.in_use = self.in_use.saturating_sub(1);
        if class == Class::Delete {
            self.deletes_in_use = self.deletes_in_use.saturating_sub(1);
        }
    }
}

impl Limiter {
    /// A limiter for `max` concurrent requests (`max >= 1`).
    pub(crate) fn new(max: usize) -> Self {
        let max = max.max(1);
        Limiter {
            state: Arc::new(Mutex::new(State {
                max,
                confirmed: max,
                configured: max,
                delete_cap: max.saturating_sub(1).max(1),
                in_use: 0,
                deletes_in_use: 0,
                peak: 0,
                normal_q: VecDeque::new(),
                delete_q: VecDeque::new(),
                range_q: VecDeque::new(),
            })),
        }
    }

    /// Waits for a slot. Cancel-safe: dropping the future gives up the
    /// place in the queue (and any slot handed over meanwhile).
    pub(crate) async fn acquire(&self, class: Class) -> Permit {
        loop {
            let rx = {
                let mut st = lock(&self.state);
                if st.nobody_ahead(class) && st.can_take(class) {
                    st.take(class);
                    return Permit {
                        state: Arc::clone(&self.state),
                        class,
                        armed: true,
                    };
                }
                let (tx, rx) = oneshot::channel();
                st.queue(class).push_back(tx);
                rx
            };
            if let Ok(p) = rx.await {
                return p;
            }
        }
    }

    /// Highest number of slots ever held at once.
    #[cfg(test)]
    pub(crate) fn peak(&self) -> usize {
        lock(&self.state).peak
    }

    /// Slots held now.
    pub(crate) fn in_use(&self) -> usize {
        lock(&self.state).in_use
    }

    /// Slots allowed at once now (lower than configured once the camera
    /// refused more).
    pub(crate) fn max(&self) -> usize {
        lock(&self.state).max
    }

    /// The camera refused a connection while this many slots (the refused
    /// one's included) were held: it takes fewer. Lowers the limit,
    /// tentatively, to one below that and returns it; `None` when nothing
    /// else was held (a refusal of a lone connection is no limit, and a
    /// tentative limit is undone: the camera may just be gone).
    pub(crate) fn refused(&self) -> Option<usize> {
        let mut st = lock(&self.state);
        if st.in_use <= 1 {
            if st.max < st.confirmed {
                let confirmed = st.confirmed;
                st.set_max(confirmed);
                dispatch(&self.state, &mut st);
            }
            return None;
        }
        let max = st.max.min(st.in_use - 1);
        st.set_max(max);
        Some(st.max)
    }

    /// A request refused before answered now, with every slot of a
    /// tentative lower limit held: that limit is proven. Returns it, and
    /// whether it is the first limit proven (to be said once).
    pub(crate) fn answered(&self) -> Option<(usize, bool)> {
        let mut st = lock(&self.state);
        if st.max >= st.confirmed || st.in_use < st.max {
            return None;
        }
        let first = st.confirmed == st.configured;
        st.confirmed = st.max;
        Some((st.max, first))
    }
}

impl State {
    fn set_max(&mut self, max: usize) {
        self.max = max.max(1);
        self.delete_cap = self.max.saturating_sub(1).max(1);
    }
}

impl Permit {
    /// Gives this slot back and waits for one again, behind whoever waits
    /// in its class: for a request to try again once the camera has fewer
    /// connections open. Cancel-safe: dropped while waiting, the permit
    /// holds nothing.
    pub(crate) async fn requeue(&mut self) {
        if self.armed {
            self.armed = false;
            let mut st = lock(&self.state);
            st.give_back(self.class);
            dispatch(&self.state, &mut st);
        }
        let limiter = Limiter {
            state: Arc::clone(&self.state),
        };
        let mut again = limiter.acquire(self.class).await;
        again.armed = false;
        self.armed = true;
    }
}

/// Hands free slots to waiters: normal first, then deletes within their
/// cap, then ranged reads (never the last slot), each only when no class
/// above it waits.
fn dispatch(state: &Arc<Mutex<State>>, st: &mut State) {
    loop {
        let class = if !st.normal_q.is_empty() {
            Class::Normal
        } else if !st.delete_q.is_empty() {
            Class::Delete
        } else if !st.range_q.is_empty() {
            Class::Range
        } else {
            return;
        };
        // The first class with a waiter decides: if it cannot take a slot,
        // no class below it may either.
        if !st.can_take(class) {
            return;
        }
        let Some(tx) = st.queue(class).pop_front() else {
            return;
        };
        st.take(class);
        let permit = Permit {
            state: Arc::clone(state),
            class,
            armed: true,
        };
        if let Err(mut unsent) = tx.send(permit) {
            // The waiter left: undo by hand (dropping it here would lock
            // again) and try the next one.
            unsent.armed = false;
            st.give_back(class);
        }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let state = Arc::clone(&self.state);
        let mut st = lock(&state);
        st.give_back(self.class);
        dispatch(&state, &mut st);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn never_exceeds_max() {
        let l = Limiter::new(3);
        let mut tasks = Vec::new();
        for i in 0..40 {
            let l = l.clone();
            tasks.push(tokio::spawn(async move {
                let class = match i % 4 {
                    0 => Class::Delete,
                    1 => Class::Range,
                    _ => Class::Normal,
                };
                let _p = l.acquire(class).await;
                assert!(l.in_use() <= 3);
                tokio::task::yield_now().await;
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert!(l.peak() <= 3 && l.peak() >= 1);
        assert_eq!(l.in_use(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn deletes_leave_one_slot_for_downloads() {
        let l = Limiter::new(3);
        let d1 = l.acquire(Class::Delete).await;
        let d2 = l.acquire(Class::Delete).await;
        // A third delete must wait even though a slot is free...
        let l2 = l.clone();
        let mut d3 = tokio::spawn(async move { l2.acquire(Class::Delete).await });
        tokio::task::yield_now().await;
        assert!(
            tokio::time::timeout(Duration::from_millis(20), &mut d3)
                .await
                .is_err()
        );
        // ...while a download gets it at once.
        let n = tokio::time::timeout(Duration::from_millis(1000), l.acquire(Class::Normal))
            .await
            .unwrap();
        drop(d1);
        // d1's slot goes to the waiting delete (no download waits).
        let d3 = tokio::time::timeout(Duration::from_millis(1000), d3)
            .await
            .unwrap()
            .unwrap();
        drop((d2, d3, n));
        assert_eq!(l.in_use(), 0);
    }

    #[tokio::test]
    async fn waiting_downloads_go_before_waiting_deletes() {
        let l = Limiter::new(1);
        let held = l.acquire(Class::Normal).await;
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for (i, class) in [Class::Delete, Class::Normal, Class::Delete, Class::Normal]
            .into_iter()
            .enumerate()
        {
            let (l, order) = (l.clone(), Arc::clone(&order));
            tasks.push(tokio::spawn(async move {
                let _p = l.acquire(class).await;
                order.lock().unwrap().push((i, class));
            }));
            // Queue them in this order.
            for _ in 0..5 {
                tokio::task::yield_now().await;
            }
        }
        drop(held);
        for t in tasks {
            t.await.unwrap();
        }
        let order = order.lock().unwrap().clone();
        let classes: Vec<_> = order.iter().map(|(_, c)| *c).collect();
        assert_eq!(
            classes,
            [Class::Normal, Class::Normal, Class::Delete, Class::Delete],
            "{order:?}"
        );
    }

    /// Runs `classes` as waiters queued in this order behind the held slot
    /// of a one-slot limiter, and returns the order they were served in.
    async fn served_order(classes: &[Class]) -> Vec<Class> {
        let l = Limiter::new(1);
        let held = l.acquire(Class::Normal).await;
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for &class in classes {
            let (l, order) = (l.clone(), Arc::clone(&order));
            tasks.push(tokio::spawn(async move {
                let _p = l.acquire(class).await;
                order.lock().unwrap().push(class);
                // Hold the slot until every waiter has queued and been
                // given its chance: served one at a time.
                tokio::task::yield_now().await;
            }));
            for _ in 0..5 {
                tokio::task::yield_now().await;
            }
        }
        drop(held);
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(l.in_use(), 0);
        order.lock().unwrap().clone()
    }

    #[tokio::test]
    async fn waiting_ranges_go_after_waiting_downloads_and_deletes() {
        use Class::{Delete, Normal, Range};
        assert_eq!(
            served_order(&[Range, Delete, Range, Normal, Delete, Normal]).await,
            [Normal, Normal, Delete, Delete, Range, Range]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn ranges_never_take_the_last_slot() {
        let l = Limiter::new(3);
        let n1 = l.acquire(Class::Normal).await;
        // Two free: a range may take one of them.
        let r1 = tokio::time::timeout(Duration::from_secs(1), l.acquire(Class::Range))
            .await
            .expect("a range takes a slot while another stays free");
        // One free: the last, kept for downloads.
        let l2 = l.clone();
        let mut r2 = tokio::spawn(async move { l2.acquire(Class::Range).await });
        tokio::task::yield_now().await;
        assert!(
            tokio::time::timeout(Duration::from_millis(20), &mut r2)
                .await
                .is_err(),
            "a range must not take the last free slot"
        );
        let n2 = tokio::time::timeout(Duration::from_secs(1), l.acquire(Class::Normal))
            .await
            .expect("the last slot is a download's at once");
        assert_eq!(l.in_use(), 3);
        drop(n1);
        // One free again (n2 and r1 hold two): still the last one.
        assert!(
            tokio::time::timeout(Duration::from_millis(20), &mut r2)
                .await
                .is_err()
        );
        drop(n2);
        let r2 = tokio::time::timeout(Duration::from_secs(1), r2)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(l.in_use(), 2);
        drop((r1, r2));
        assert_eq!(l.in_use(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn with_one_slot_a_range_takes_it_when_free() {
        let l = Limiter::new(1);
        let r = tokio::time::timeout(Duration::from_secs(1), l.acquire(Class::Range))
            .await
            .expect("the only slot, free");
        assert_eq!(l.in_use(), 1);
        drop(r);
        assert_eq!(l.in_use(), 0);
    }

    #[tokio::test]
    async fn abandoned_waiter_does_not_leak_a_slot() {
        let l = Limiter::new(1);
        let held = l.acquire(Class::Normal).await;
        let l2 = l.clone();
        let waiter = tokio::spawn(async move { l2.acquire(Class::Normal).await });
        tokio::task::yield_now().await;
        waiter.abort();
        let _ = waiter.await;
        drop(held);
        let again =
            tokio::time::timeout(Duration::from_millis(1000), l.acquire(Class::Delete)).await;
        assert!(again.is_ok());
        drop(again);
        assert_eq!(l.in_use(), 0);
    }

    #[tokio::test]
    async fn a_refused_extra_connection_lowers_the_limit_until_proven() {
        let l = Limiter::new(3);
        let a = l.acquire(Class::Normal).await;
        let mut b = l.acquire(Class::Normal).await;
        // b refused while a is open: the camera takes one.
        assert_eq!(l.refused(), Some(1));
        assert_eq!((l.max(), l.in_use()), (1, 2));
        let l2 = l.clone();
        let retry = tokio::spawn(async move {
            b.requeue().await;
            // Alone under the lower limit, and answered: proven, said once.
            let first = l2.answered();
            let again = l2.answered();
            (first, again, b)
        });
        tokio::task::yield_now().await;
        assert!(!retry.is_finished(), "b waits for a's slot");
        drop(a);
        let (first, again, b) = retry.await.unwrap();
        assert_eq!((first, again), (Some((1, true)), None));
        drop(b);
        assert_eq!((l.max(), l.in_use()), (1, 0));

        // A lone refusal is no limit: a tentative one is undone.
        let l = Limiter::new(3);
        let a = l.acquire(Class::Normal).await;
        let b = l.acquire(Class::Normal).await;
        assert_eq!(l.refused(), Some(1));
        drop(a);
        assert_eq!(l.refused(), None);
        assert_eq!(l.max(), 3);
        drop(b);
        assert_eq!(l.in_use(), 0);
    }
}
