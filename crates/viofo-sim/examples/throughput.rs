//! Measures the simulator's unshaped throughput and peak RSS:
//! `cargo run --release -p viofo-sim --example throughput`.
#![allow(clippy::print_stdout, clippy::unwrap_used)]
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use viofo_sim::{ClipSpec, Sim, SimConfig};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let size = 1_000_000_000u64;
    let sim = Sim::start(SimConfig::default().with_clips(ClipSpec::synthetic(3).size(size)))
        .await
        .unwrap();
    for par in [1usize, 3] {
        let t = std::time::Instant::now();
        let mut tasks = Vec::new();
        for c in sim.clips().into_iter().take(par) {
            let addr = sim.addr();
            tasks.push(tokio::spawn(async move {
                let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
                s.write_all(format!("GET {} HTTP/1.1\r\n\r\n", c.url_path).as_bytes())
                    .await
                    .unwrap();
                let mut buf = vec![0u8; 256 * 1024];
                let mut n = 0u64;
                loop {
                    let k = s.read(&mut buf).await.unwrap();
                    if k == 0 {
                        break;
                    }
                    n += k as u64;
                }
                n
            }));
        }
        let mut total = 0;
        for t in tasks {
            total += t.await.unwrap();
        }
        let secs = t.elapsed().as_secs_f64();
        println!(
            "{par} parallel: {total} bytes in {secs:.2}s = {:.0} MB/s",
            total as f64 / secs / 1e6
        );
    }
    let rss = std::fs::read_to_string("/proc/self/status").unwrap();
    println!(
        "{}",
        rss.lines()
            .filter(|l| l.starts_with("VmHWM") || l.starts_with("VmRSS"))
            .collect::<Vec<_>>()
            .join(" ")
    );
}
