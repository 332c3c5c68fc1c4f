//! Which connection, on which node: the key the presence registry counts by, and the origin
//! an event carries so that the connection that caused it can be told apart.

use std::fmt;

/// One server process. A fresh id per process start, so that a node that restarts is a new
/// node and the connections its previous life left in a shared registry can be forgotten.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(String);

impl NodeId {
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One client connection: the node it is open on and its number there.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectionRef {
    pub node: NodeId,
    pub conn: u64,
}

impl ConnectionRef {
    pub fn new(node: NodeId, conn: u64) -> Self {
        Self { node, conn }
    }
}

impl fmt::Display for ConnectionRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.node, self.conn)
    }
}
