//! A real Garage (an S3-compatible object store) on 127.0.0.1 for the
//! object archive's tests: a generated configuration (SQLite metadata, one
//! replica, free loopback ports, a random RPC secret) in a temp dir, a
//! one-node layout, a key and buckets. Stopped (and restartable on the same
//! ports and data) to play a store that goes away.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The Garage version `.ci/garage.sh` installs.
pub const GARAGE_VERSION: &str = "2.5.0";

/// A running Garage node with a key allowed on the buckets it creates.
#[derive(Debug)]
pub struct Garage {
    bin: PathBuf,
    config: PathBuf,
    child: Option<Child>,
    /// Its S3 endpoint, `http://127.0.0.1:<port>`.
    pub endpoint: String,
    /// Its S3 region.
    pub region: String,
    /// The access key id.
    pub key_id: String,
    /// The secret key.
    pub secret: String,
    _dir: tempfile::TempDir,
}

/// The Garage binary: `$VIOFO_GARAGE`, else
/// `${CARGO_TARGET_DIR:-<workspace>/target}/garage-<version>/bin/garage`
/// (where `.ci/garage.sh` installs it); the error says what was looked
/// for, for the test's skip reason.
pub fn garage_binary() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("VIOFO_GARAGE") {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(format!("VIOFO_GARAGE={} is not a file", p.display()))
        };
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| crate::workspace_root().join("target"), PathBuf::from);
    let p = target.join(format!("garage-{GARAGE_VERSION}/bin/garage"));
    if p.is_file() {
        Ok(p)
    } else {
        Err(format!(
            "no Garage binary (set VIOFO_GARAGE, or run .ci/garage.sh to build it into {})",
            p.display()
        ))
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn random_hex(bytes: usize) -> String {
    use std::io::Read as _;
    let mut buf = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .expect("random bytes");
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

impl Garage {
    /// Starts a node and sets it up (layout, a key); `Err` with the reason
    /// when the binary is missing or the node does not come up.
    pub fn start() -> Result<Garage, String> {
        let bin = garage_binary()?;
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let (rpc, s3) = (free_port(), free_port());
        let config = dir.path().join("garage.toml");
        let text = format!(
            "metadata_dir = \"{meta}\"\n\
             data_dir = \"{data}\"\n\
             db_engine = \"sqlite\"\n\
             replication_factor = 1\n\
             rpc_bind_addr = \"127.0.0.1:{rpc}\"\n\
             rpc_public_addr = \"127.0.0.1:{rpc}\"\n\
             rpc_secret = \"{secret}\"\n\
             [s3_api]\n\
             s3_region = \"garage\"\n\
             api_bind_addr = \"127.0.0.1:{s3}\"\n",
            meta = dir.path().join("meta").display(),
            data = dir.path().join("data").display(),
            secret = random_hex(32),
        );
        std::fs::write(&config, text).map_err(|e| e.to_string())?;
        let mut g = Garage {
            bin,
            config,
            child: None,
            endpoint: format!("http://127.0.0.1:{s3}"),
            region: "garage".into(),
            key_id: String::new(),
            secret: String::new(),
            _dir: dir,
        };
        g.run_server()?;
        let id = g.cli(&["node", "id", "-q"])?;
        let id = id.trim().split('@').next().unwrap_or_default().to_owned();
        g.cli(&["layout", "assign", "-z", "dc1", "-c", "1G", &id])?;
        g.cli(&["layout", "apply", "--version", "1"])?;
        let key = g.cli(&["key", "create", "viofosync-test"])?;
        g.key_id = key
            .split_whitespace()
            .find(|w| w.starts_with("GK"))
            .ok_or_else(|| format!("no key id in: {key}"))?
            .to_owned();
        g.secret = key
            .split_whitespace()
            .find(|w| w.len() == 64 && w.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| format!("no secret key in: {key}"))?
            .to_owned();
        Ok(g)
    }

    /// Creates a bucket the key may read, write and own.
    pub fn create_bucket(&self, name: &str) -> Result<(), String> {
        self.cli(&["bucket", "create", name])?;
        self.cli(&[
            "bucket",
            "allow",
            "--read",
            "--write",
            "--owner",
            name,
            "--key",
            "viofosync-test",
        ])?;
        Ok(())
    }

    /// Runs `garage -c <config> ARGS`, its stdout or why it failed.
    pub fn cli(&self, args: &[&str]) -> Result<String, String> {
        let out = Command::new(&self.bin)
            .arg("-c")
            .arg(&self.config)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("garage {args:?}: {e}"))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(format!(
                "garage {args:?}: {}: {}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    /// Stops the node (SIGKILL): the store becomes unreachable.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts the node again on the same ports and data.
    pub fn restart(&mut self) -> Result<(), String> {
        self.stop();
        self.run_server()
    }

    fn run_server(&mut self) -> Result<(), String> {
        let log = std::fs::File::create(self.config.with_file_name("garage.log"))
            .map_err(|e| e.to_string())?;
        let child = Command::new(&self.bin)
            .arg("-c")
            .arg(&self.config)
            .arg("server")
            .env("RUST_LOG", "garage=warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("starting {}: {e}", self.bin.display()))?;
        self.child = Some(child);
        // Up when the CLI gets an answer over RPC (bounded).
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match self.cli(&["status"]) {
                Ok(_) => return Ok(()),
                Err(e) if Instant::now() > deadline => {
                    return Err(format!("Garage did not come up: {e}; {}", self.log_tail()));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    /// The end of the server's log, for failure messages.
    pub fn log_tail(&self) -> String {
        let text =
            std::fs::read_to_string(self.config.with_file_name("garage.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines
            .get(lines.len().saturating_sub(20)..)
            .unwrap_or_default()
            .join("\n")
    }

    /// The folder holding the node's configuration and data.
    pub fn dir(&self) -> &Path {
        self._dir.path()
    }
}

impl Drop for Garage {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A TCP relay on 127.0.0.1 in front of a store: counts the bytes sent
/// to it (to act mid-upload) and can be cut (every connection closed, new
/// ones refused) to play a store that goes away without stopping it.
#[derive(Debug)]
pub struct Relay {
    /// `http://127.0.0.1:<port>`: the endpoint to give the syncer.
    pub endpoint: String,
    sent: std::sync::Arc<std::sync::atomic::AtomicU64>,
    cut: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Relay {
    /// Relays connections to `upstream` (`http://host:port`).
    pub async fn start(upstream: &str) -> Relay {
        use std::sync::atomic::Ordering;
        let up = upstream
            .strip_prefix("http://")
            .expect("an http:// upstream")
            .to_owned();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("relay binds");
        let endpoint = format!("http://{}", listener.local_addr().expect("relay address"));
        let sent = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let (tx, rx) = tokio::sync::watch::channel(false);
        let counter = sent.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                if *rx.borrow() {
                    continue;
                }
                let (up, counter, mut rx) = (up.clone(), counter.clone(), rx.clone());
                tokio::spawn(async move {
                    let Ok(mut server) = tokio::net::TcpStream::connect(&up).await else {
                        return;
                    };
                    let (mut cr, mut cw) = client.split();
                    let (mut sr, mut sw) = server.split();
                    let to_server = async {
                        let mut buf = vec![0u8; 64 * 1024];
                        loop {
                            let n = tokio::io::AsyncReadExt::read(&mut cr, &mut buf).await?;
                            if n == 0 {
                                return Ok::<(), std::io::Error>(());
                            }
                            counter.fetch_add(n as u64, Ordering::SeqCst);
                            let chunk = buf.get(..n).unwrap_or_default();
                            tokio::io::AsyncWriteExt::write_all(&mut sw, chunk).await?;
                        }
                    };
                    let to_client = tokio::io::copy(&mut sr, &mut cw);
                    tokio::select! {
                        _ = to_server => {}
                        _ = to_client => {}
                        _ = rx.wait_for(|c| *c) => {}
                    }
                });
            }
        });
        Relay {
            endpoint,
            sent,
            cut: tx,
            task,
        }
    }

    /// Bytes sent through it to the store so far.
    pub fn sent(&self) -> u64 {
        self.sent.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Closes every connection and refuses new ones (the store unreachable).
    pub fn cut(&self) {
        let _ = self.cut.send(true);
    }

    /// Lets connections through again.
    pub fn mend(&self) {
        let _ = self.cut.send(false);
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
    }
}
