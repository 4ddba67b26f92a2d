//! SIGINT/SIGTERM (Ctrl-C elsewhere) as requests to a [`Shutdown`]: the
//! first drains (no new downloads), the second aborts.

use viofo_pipeline::Shutdown;

/// Calls [`Shutdown::request`] on every SIGINT/SIGTERM (Ctrl-C where
/// there are no Unix signals), from a task spawned on the current tokio
/// runtime: the first request lets the work in hand finish, the second
/// aborts it (nothing is lost; partial downloads resume next time). With
/// `announce` each signal also says so at INFO, a stop asked for being no
/// failure. Call it inside a runtime.
pub fn stop_on_signals(shutdown: Shutdown, announce: bool) {
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let (Ok(mut int), Ok(mut term)) = (
                signal(SignalKind::interrupt()),
                signal(SignalKind::terminate()),
            ) else {
                tracing::warn!("cannot listen for signals");
                return;
            };
            loop {
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                }
                if announce {
                    if shutdown.is_stopping() {
                        tracing::info!(
                            "second signal: aborting (nothing is lost; partial downloads resume next time)"
                        );
                    } else {
                        tracing::info!("stopping: no new downloads; signal again to abort");
                    }
                }
                shutdown.request();
            }
        }
        #[cfg(not(unix))]
        loop {
            if tokio::signal::ctrl_c().await.is_err() {
                return;
            }
            shutdown.request();
        }
    });
}
