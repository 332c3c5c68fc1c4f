//! native: this server's own protocol. Over REST today: the provisioning API that every REST
//! listener serves (see `rest`); its socket events come with the raw WebSocket transport.

pub mod rest;

use crate::adapters::inbound::protocol::{Delivery, Dialect};
use crate::adapters::inbound::session::EventTable;
use crate::domain::DomainEvent;

pub struct Native {
    events: EventTable,
}

impl Default for Native {
    fn default() -> Self {
        Self {
            events: EventTable::new(),
        }
    }
}

impl Dialect for Native {
    fn name(&self) -> &'static str {
        "native"
    }

    fn events(&self) -> &EventTable {
        &self.events
    }

    fn render(&self, _: &DomainEvent) -> Vec<Delivery> {
        Vec::new()
    }
}
