//! Who takes part in a DDP run: local peers, nodes, global ranks, and the burn-collective
//! configuration that connects them.

use std::net::TcpListener;

use burn_collective::{AllReduceStrategy, CollectiveConfig};

use crate::config::{AllReduceName, DdpSection, Devices, ExperimentConfig};
use crate::error::{KilnError, Result};

/// The peers of a run: `local_peers` in each of `nodes` processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Topology {
    pub local_peers: usize,
    pub nodes: usize,
    pub node_rank: usize,
}

impl Topology {
    pub fn new(devices: &Devices, ddp: &DdpSection) -> Self {
        Self { local_peers: devices.count(), nodes: ddp.nodes, node_rank: ddp.node_rank }
    }

    /// Peers across all nodes. Every node runs the same number of local peers.
    pub fn world_size(&self) -> usize {
        self.local_peers * self.nodes
    }

    /// Rank 0 is local peer 0 of node 0; ranks are contiguous within a node.
    pub fn global_rank(&self, local: usize) -> usize {
        self.node_rank * self.local_peers + local
    }
}

/// Environment variable that lets a multi-node run start despite burn-collective 0.21.0's bug
/// (registration and the first all-reduce work, which the fault tests use).
pub const MULTI_NODE_OVERRIDE: &str = "KILN_DDP_MULTI_NODE";

/// Refuses several nodes up front: burn-collective 0.21.0's global all-reduce completes only
/// once per session. (`SyncService::sync` clears a copy of the list of nodes that reached the
/// barrier, not the list itself, so from the second round on the list never equals the node
/// set and every node waits forever. Upstream removed burn-collective after 0.21; the fix is
/// one line there, and kiln may not carry a patched copy of Burn's source.)
pub fn check_nodes_supported(cfg: &ExperimentConfig) -> Result<()> {
    if cfg.ddp.nodes > 1 && std::env::var(MULTI_NODE_OVERRIDE).as_deref() != Ok("experimental") {
        return Err(KilnError::Ddp(format!(
            "several nodes (ddp.nodes = {}) cannot train with burn-collective 0.21.0: its barrier between nodes works once, so the second global all-reduce waits forever (docs/notes/ddp-burn-collective-0.21.md). Use several devices in one process (devices = N) instead; {MULTI_NODE_OVERRIDE}=experimental starts it anyway",
            cfg.ddp.nodes
        )));
    }
    Ok(())
}

/// `HOST:PORT` (a leading `ws://` is accepted) split into its parts.
pub fn parse_host_port(key: &str, text: &str) -> Result<(String, u16)> {
    let bare = text.strip_prefix("ws://").unwrap_or(text).trim_end_matches('/');
    let bad = || KilnError::Ddp(format!("{key} = '{text}' is not HOST:PORT, e.g. 127.0.0.1:29500"));
    let (host, port) = bare.rsplit_once(':').ok_or_else(bad)?;
    let port: u16 = port.parse().map_err(|_| bad())?;
    if host.is_empty() || port == 0 {
        return Err(bad());
    }
    Ok((host.to_string(), port))
}

/// burn-collective's configuration for this process: local strategy, and for several nodes the
/// orchestrator and this node's data-service address.
pub fn collective_config(devices: &Devices, d: &DdpSection) -> Result<CollectiveConfig> {
    let strategy = |name: AllReduceName| match name {
        AllReduceName::Centralized => AllReduceStrategy::Centralized,
        AllReduceName::Tree => AllReduceStrategy::Tree(d.tree_arity),
        AllReduceName::Ring => AllReduceStrategy::Ring,
    };
    let local = CollectiveConfig::default()
        .with_num_devices(devices.count())
        .with_local_all_reduce_strategy(strategy(d.local_all_reduce));
    if d.nodes == 1 {
        return Ok(local);
    }
    let orchestrator = d
        .orchestrator
        .as_deref()
        .ok_or_else(|| KilnError::Ddp("ddp.nodes > 1 needs ddp.orchestrator (or --orchestrator HOST:PORT)".into()))?;
    let (orch_host, orch_port) = parse_host_port("ddp.orchestrator", orchestrator)?;
    let (node_host, node_port) = match &d.node_address {
        Some(text) => parse_host_port("ddp.node_address", text)?,
        None => {
            let port = usize::from(orch_port) + 1 + d.node_rank;
            let port = u16::try_from(port).map_err(|_| {
                KilnError::Ddp(format!("the default node port {port} is out of range; set ddp.node_address"))
            })?;
            ("127.0.0.1".to_string(), port)
        }
    };
    // burn-collective binds its data service in a background task and drops a bind error
    // silently (the other nodes then fail to connect), so a taken port is reported here first.
    TcpListener::bind(("0.0.0.0", node_port)).map_err(|e| {
        KilnError::Ddp(format!("this node's port {node_port} (ddp.node_address / --node-address) cannot be used: {e}"))
    })?;
    let node_address = format!("ws://{node_host}:{node_port}");
    Ok(local
        .with_num_nodes(d.nodes as u32)
        .with_global_address(format!("ws://{orch_host}:{orch_port}").parse().expect("any text parses as an Address"))
        .with_node_address(node_address.parse().expect("any text parses as an Address"))
        .with_data_service_port(node_port)
        .with_global_all_reduce_strategy(strategy(d.global_all_reduce)))
}
