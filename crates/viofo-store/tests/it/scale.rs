//! Picking the next clip reads an index in the policy's order (migration
//! 0012): the query plans, and the order itself against a sort in Rust.

use viofo_store::{ClipId, ClipRow, Filter, Policy};

use crate::common::{CAM, T0, clip, fixture};

const POLICIES: [Policy; 4] = [
    Policy::OldestFirst,
    Policy::NewestFirst,
    Policy::LockedFirst,
    Policy::RecentFirst { hours: 1 },
];

#[tokio::test]
async fn every_pick_reads_an_index_in_order_without_sorting() {
    let f = fixture().await;
    let s = &f.store;
    let listed: Vec<_> = (0..200).map(|i| clip(i, i64::from(i))).collect();
    s.reconcile(CAM, &listed, |_| None).await.unwrap();
    let exclude = [ClipId(1), ClipId(2)];
    let channels = [viofo_store::Channel::Front, viofo_store::Channel::Rear];
    let filters = [
        Filter::default(),
        Filter {
            locked_only: true,
            channels: &channels,
            include_parking: false,
            exclude: &exclude,
        },
    ];
    for policy in POLICIES {
        for filter in &filters {
            let plan = s.explain_next_pending(CAM, policy, filter).await.unwrap();
            let text = plan.join("\n");
            assert!(
                plan.iter().any(|l| l.contains("INDEX clips_pick_")
                    || (matches!(policy, Policy::RecentFirst { .. })
                        && l.contains("INDEX clips_recorded"))),
                "{policy:?}: no pick index in\n{text}"
            );
            // The recent window is a range of a few hours' clips, sorted;
            // every other query reads its index in order.
            let sorts = plan.iter().filter(|l| l.contains("TEMP B-TREE")).count();
            let allowed = usize::from(matches!(policy, Policy::RecentFirst { .. }));
            assert!(sorts <= allowed, "{policy:?} sorts:\n{text}");
        }
    }
}

/// The order each policy promises, computed in Rust: priority first,
/// then the policy's order, clips without a recording time last.
fn expected(mut rows: Vec<ClipRow>, policy: Policy, now: i64) -> Vec<String> {
    let key = |r: &ClipRow| (r.recorded_at.is_none(), r.recorded_at.unwrap_or(0));
    rows.sort_by(|a, b| {
        let by = match policy {
            Policy::NewestFirst => key(a)
                .0
                .cmp(&key(b).0)
                .then(key(b).1.cmp(&key(a).1))
                .then(b.name.cmp(&a.name)),
            Policy::LockedFirst => b
                .locked
                .cmp(&a.locked)
                .then(key(a).cmp(&key(b)))
                .then(a.name.cmp(&b.name)),
            Policy::RecentFirst { hours } => {
                let cut = now - i64::from(hours) * 3_600_000;
                let recent = |r: &ClipRow| r.recorded_at.is_some_and(|t| t >= cut);
                recent(b)
                    .cmp(&recent(a))
                    .then(key(a).cmp(&key(b)))
                    .then(a.name.cmp(&b.name))
            }
            _ => key(a).cmp(&key(b)).then(a.name.cmp(&b.name)),
        };
        b.priority.cmp(&a.priority).then(by)
    });
    rows.into_iter().map(|r| r.name).collect()
}

#[tokio::test]
async fn the_order_of_every_policy_is_unchanged_by_its_index() {
    let f = fixture().await;
    let s = &f.store;
    let mut listed = Vec::new();
    for i in 0..40u32 {
        let mut c = clip(i, i64::from(i % 13) * 7);
        c.locked = i % 5 == 0;
        if i % 9 == 0 {
            c.recorded_at = None;
        }
        listed.push(c);
    }
    s.reconcile(CAM, &listed, |_| None).await.unwrap();
    for (i, c) in listed.iter().enumerate() {
        if i % 7 == 0 {
            let id = s.get_by_name(CAM, &c.name).await.unwrap().unwrap().id;
            s.set_priority(id, 1 + (i as i64 % 2)).await.unwrap();
        }
    }
    let rows = s.list(Some(CAM), &[], u32::MAX).await.unwrap();
    let now = T0 + 60 * 60_000;
    for policy in POLICIES {
        let mut got = Vec::new();
        let mut taken: Vec<ClipId> = Vec::new();
        loop {
            let filter = Filter {
                exclude: &taken,
                ..Filter::default()
            };
            let Some(r) = s.next_pending_at(CAM, policy, &filter, now).await.unwrap() else {
                break;
            };
            got.push(r.name);
            taken.push(r.id);
        }
        assert_eq!(got, expected(rows.clone(), policy, now), "{policy:?}");
    }
}
