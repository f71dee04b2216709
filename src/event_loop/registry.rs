//! The user's registrations and subscriptions, kept across reconnects.
//!
//! Design: the user holds local IDs that never change; the router's IDs are mapped to
//! them per session and forgotten when the connection drops. Everything needed to
//! re-create an entry (URI, original options, handler) stays here, so a rejoin can
//! restore every entry exactly as it was made.

use crate::client::handler::{Event, EventHandler, ProcedureHandler};
use crate::pool::SerialQueue;
use crate::value::Dict;
use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

/// A registered procedure.
pub(super) struct Procedure {
    pub procedure: String,
    pub options: Dict,
    pub handler: ProcedureHandler,
    router_id: Option<u64>,
}

/// A subscription's topic and its event queue. Events of one subscription are
/// handled one at a time, in order, so the queue wraps the handler.
pub(super) struct Topic {
    pub topic: String,
    pub queue: Arc<SerialQueue<Event>>,
}

struct TopicEntry {
    shared: Arc<Topic>,
    options: Dict,
    router_id: Option<u64>,
}

/// What to re-create after a rejoin.
pub(super) enum Restore {
    Procedure {
        local_id: u64,
        procedure: String,
        options: Dict,
    },
    Topic {
        local_id: u64,
        topic: String,
        options: Dict,
    },
}

#[derive(Default)]
pub(super) struct Registry {
    procedures: HashMap<u64, Procedure>,
    by_registration: HashMap<u64, u64>,
    topics: HashMap<u64, TopicEntry>,
    /// Local subscriptions per router subscription, in the order they were made: the
    /// router returns the same ID for the same topic twice.
    by_subscription: HashMap<u64, Vec<u64>>,
    last_local_id: u64,
}

impl Registry {
    fn next_local_id(&mut self) -> u64 {
        self.last_local_id += 1;
        self.last_local_id
    }

    pub fn add_procedure(
        &mut self,
        procedure: String,
        options: Dict,
        handler: ProcedureHandler,
        router_id: u64,
    ) -> u64 {
        let local_id = self.next_local_id();
        self.procedures.insert(
            local_id,
            Procedure {
                procedure,
                options,
                handler,
                router_id: Some(router_id),
            },
        );
        self.by_registration.insert(router_id, local_id);
        local_id
    }

    /// The procedure the router invokes under `registration`.
    pub fn procedure(&self, registration: u64) -> Option<&Procedure> {
        self.by_registration
            .get(&registration)
            .and_then(|local| self.procedures.get(local))
    }

    /// The URI and options to register a procedure with again.
    pub fn procedure_spec(&self, local_id: u64) -> Option<(String, Dict)> {
        self.procedures
            .get(&local_id)
            .map(|p| (p.procedure.clone(), p.options.clone()))
    }

    pub fn has_procedure(&self, local_id: u64) -> bool {
        self.procedures.contains_key(&local_id)
    }

    /// Forgets a procedure; returns its router registration ID, if it has one now.
    pub fn remove_procedure(&mut self, local_id: u64) -> Option<u64> {
        let router_id = self.procedures.remove(&local_id)?.router_id?;
        self.by_registration.remove(&router_id);
        Some(router_id)
    }

    /// The router removed a registration by itself; the user's handle stays valid and the
    /// procedure is re-created on the next rejoin.
    pub fn registration_revoked(&mut self, registration: u64) -> Option<&str> {
        let local_id = self.by_registration.remove(&registration)?;
        let procedure = self.procedures.get_mut(&local_id)?;
        procedure.router_id = None;
        Some(&procedure.procedure)
    }

    pub fn add_topic(
        &mut self,
        topic: String,
        options: Dict,
        handler: EventHandler,
        router_id: u64,
    ) -> u64 {
        let local_id = self.next_local_id();
        let name = topic.clone();
        let queue = SerialQueue::new(move |event| {
            if catch_unwind(AssertUnwindSafe(|| handler(event))).is_err() {
                log::error!("an event handler for {name} panicked");
            }
        });
        let shared = Arc::new(Topic { topic, queue });
        self.topics.insert(
            local_id,
            TopicEntry {
                shared,
                options,
                router_id: Some(router_id),
            },
        );
        self.by_subscription
            .entry(router_id)
            .or_default()
            .push(local_id);
        local_id
    }

    /// How many local subscriptions receive events of router subscription `subscription`.
    pub fn topic_count(&self, subscription: u64) -> usize {
        self.by_subscription.get(&subscription).map_or(0, Vec::len)
    }

    /// The local subscriptions receiving events of router subscription `subscription`.
    pub fn topics(&self, subscription: u64) -> impl Iterator<Item = &Arc<Topic>> {
        let locals = self
            .by_subscription
            .get(&subscription)
            .map(Vec::as_slice)
            .unwrap_or_default();
        locals
            .iter()
            .filter_map(|local| self.topics.get(local))
            .map(|entry| &entry.shared)
    }

    pub fn has_topic(&self, local_id: u64) -> bool {
        self.topics.contains_key(&local_id)
    }

    /// Forgets a subscription. Returns the router subscription to end, if no other
    /// local subscription still uses it.
    pub fn remove_topic(&mut self, local_id: u64) -> Option<u64> {
        let router_id = self.topics.remove(&local_id)?.router_id?;
        let locals = self.by_subscription.get_mut(&router_id)?;
        locals.retain(|&l| l != local_id);
        if locals.is_empty() {
            self.by_subscription.remove(&router_id);
            Some(router_id)
        } else {
            None
        }
    }

    /// The router removed a subscription by itself; it is re-created on the next rejoin.
    pub fn subscription_revoked(&mut self, subscription: u64) -> Vec<String> {
        let locals = self
            .by_subscription
            .remove(&subscription)
            .unwrap_or_default();
        let mut topics = Vec::new();
        for local in locals {
            if let Some(entry) = self.topics.get_mut(&local) {
                entry.router_id = None;
                topics.push(entry.shared.topic.clone());
            }
        }
        topics
    }

    /// The session is gone: router IDs mean nothing any more.
    pub fn connection_lost(&mut self) {
        self.by_registration.clear();
        self.by_subscription.clear();
        self.procedures
            .values_mut()
            .for_each(|p| p.router_id = None);
        self.topics.values_mut().for_each(|t| t.router_id = None);
    }

    /// Everything to re-create after a rejoin, oldest first.
    pub fn to_restore(&self) -> Vec<Restore> {
        let mut procedures: Vec<_> = self.procedures.iter().collect();
        procedures.sort_by_key(|(local, _)| **local);
        let mut topics: Vec<_> = self.topics.iter().collect();
        topics.sort_by_key(|(local, _)| **local);
        let procedures = procedures
            .into_iter()
            .map(|(&local_id, p)| Restore::Procedure {
                local_id,
                procedure: p.procedure.clone(),
                options: p.options.clone(),
            });
        let topics = topics.into_iter().map(|(&local_id, t)| Restore::Topic {
            local_id,
            topic: t.shared.topic.clone(),
            options: t.options.clone(),
        });
        procedures.chain(topics).collect()
    }

    /// A procedure was re-registered under a new router ID.
    pub fn procedure_restored(&mut self, local_id: u64, router_id: u64) {
        if let Some(p) = self.procedures.get_mut(&local_id) {
            p.router_id = Some(router_id);
            self.by_registration.insert(router_id, local_id);
        }
    }

    /// A subscription was re-made under a (possibly shared) router ID.
    pub fn topic_restored(&mut self, local_id: u64, router_id: u64) {
        if let Some(t) = self.topics.get_mut(&local_id) {
            t.router_id = Some(router_id);
            let locals = self.by_subscription.entry(router_id).or_default();
            locals.push(local_id);
            locals.sort_unstable();
        }
    }
}
