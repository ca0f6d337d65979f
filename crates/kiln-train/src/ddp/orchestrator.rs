//! `kiln orchestrator`: burn-collective's global orchestrator, where the nodes of a multi-node
//! run meet.

use std::net::TcpListener;

use super::topology::parse_host_port;
use crate::error::{KilnError, Result};

/// Serves the orchestrator on `bind` (`HOST:PORT`), calling `on_ready` once the port is free, until the process receives Ctrl-C or SIGTERM.
///
/// burn-collective 0.21 listens on every interface (`0.0.0.0`) whatever the host, so only the
/// port of `bind` takes effect; the nodes' data services do the same. Start a fresh orchestrator for every run: it keeps the
/// nodes of its first run and never forgets a node that crashed.
pub fn serve_orchestrator(bind: &str, on_ready: impl FnOnce(u16)) -> Result<()> {
    let (_, port) = parse_host_port("--bind", bind)?;
    // The orchestrator only logs a failed bind and returns, so the port is tried here first.
    TcpListener::bind(("0.0.0.0", port))
        .map_err(|e| KilnError::Ddp(format!("the orchestrator cannot listen on {bind}: {e}")))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| KilnError::Ddp(format!("cannot start the orchestrator's runtime: {e}")))?;
    on_ready(port);
    runtime.block_on(burn_collective::start_global_orchestrator(port));
    Ok(())
}
