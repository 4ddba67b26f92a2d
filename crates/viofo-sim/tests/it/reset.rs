//! The card controls the whole-system explorer needs: a format with the
//! clock set back (names taken again, other bytes), unlocking a clip.

use crate::get;
use viofo_sim::{ClipDef, ClipSpec, Folder, Sim, SimConfig};

const NAME: &str = "2025_1224_120000_000001F.MP4";

#[tokio::test(start_paused = true)]
async fn a_format_clears_the_card_without_deletes_and_names_come_back_with_other_bytes() {
    let sim =
        Sim::start(SimConfig::default().with_clip(ClipDef::synthetic(NAME, Folder::Movie, 90_000)))
            .await
            .unwrap();
    sim.add_clip(ClipDef::synthetic(
        "2025_1224_120100_000002F.MP4",
        Folder::Movie,
        90_000,
    ))
    .unwrap();
    let reset = time::macros::datetime!(2025-01-01 00:00:00);
    assert_eq!(sim.format_card(Some(reset)), 2);
    assert!(sim.clips().is_empty());
    assert!(sim.deleted_clips().is_empty(), "a format records no delete");
    let doc = get(sim.addr(), "/?custom=1&cmd=3015").await.text();
    assert!(!doc.contains(NAME));

    // The name again: without a variant, the bytes the name alone gives
    // (the same each time); with one, other bytes of the same size.
    sim.add_clip(ClipDef::synthetic(NAME, Folder::Movie, 90_000))
        .unwrap();
    let before = sim.clip_bytes(NAME).unwrap();
    assert!(sim.remove_clip(NAME));
    sim.add_clip(ClipDef::synthetic(NAME, Folder::Movie, 90_000))
        .unwrap();
    assert!(
        sim.clip_bytes(NAME).unwrap() == before,
        "no variant: same bytes"
    );
    assert!(sim.remove_clip(NAME));
    sim.add_clip(ClipDef::synthetic(NAME, Folder::Movie, 90_000).variant(7))
        .unwrap();
    let again = sim.clip_bytes(NAME).unwrap();
    assert_eq!(again.len(), before.len());
    assert!(again != before, "a variant is another recording");
    let r = get(sim.addr(), &sim.clip(NAME).unwrap().url_path).await;
    assert!(r.body == again, "the download serves the new recording");

    // The camera clock was set back: a recording started now is named
    // from the reset time, with sequence numbers from 1 past the card's.
    sim.set_recording(true);
    let rec = sim.clips().into_iter().find(|c| c.growing).unwrap();
    assert!(rec.name.starts_with("2025_0101_0000"), "{}", rec.name);
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn unlocking_moves_a_clip_out_of_ro_or_clears_its_mark() {
    let sim = Sim::start(SimConfig::default().with_clips(ClipSpec::synthetic(2).size(80_000)))
        .await
        .unwrap();
    let [a, b] = [0, 1].map(|i| sim.clips()[i].name.clone());
    assert!(!sim.unlock_clip(&a), "not locked");
    assert!(sim.lock_clip(&a));
    assert_eq!(sim.clip(&a).unwrap().folder, Folder::Ro);
    assert!(sim.unlock_clip(&a));
    let c = sim.clip(&a).unwrap();
    assert_eq!((c.folder, c.locked), (Folder::Movie, false));
    let doc = get(sim.addr(), "/?custom=1&cmd=3015").await.text();
    assert!(
        doc.contains(&format!("Movie\\{a}")),
        "listed at its Movie path again"
    );

    assert!(sim.lock_clip_with(&b, viofo_sim::LockStyle::AttrInPlace));
    assert!(sim.clip(&b).unwrap().locked);
    assert!(sim.unlock_clip(&b));
    assert!(!sim.clip(&b).unwrap().locked);
    sim.shutdown().await;
}
