//! The user's registrations and subscriptions, kept across reconnects.
//!
//! Design: the client handle picks a local ID for each registration and subscription,
//! which never changes; the router's IDs are mapped to it per session and forgotten
//! when the connection drops. The URI and options stay here, so a rejoin re-creates
//! every entry exactly as it was made. Handlers are not here: they belong to the
//! client handle, which finds them by local ID.

use super::inbound::LocalId;
use crate::id_map::IdMap;
use crate::proto::value::Dict;

/// A registration or a subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Procedure,
    Topic,
}

struct Entry {
    kind: Kind,
    uri: String,
    options: Dict,
    /// The router's ID in the current session, if it has one.
    router_id: Option<u64>,
    /// The router confirmed it once; until then it is not restored.
    confirmed: bool,
}

/// What to re-create after a rejoin.
pub(super) struct Restore {
    pub local: LocalId,
    pub kind: Kind,
    pub uri: String,
    pub options: Dict,
}

#[derive(Default)]
pub(super) struct Registry {
    entries: IdMap<LocalId, Entry>,
    by_registration: IdMap<u64, LocalId>,
    /// Local subscriptions per router subscription, oldest first: the router returns
    /// the same ID for the same topic twice.
    by_subscription: IdMap<u64, Vec<LocalId>>,
}

impl Registry {
    fn add(&mut self, local: LocalId, kind: Kind, uri: String, options: Dict) {
        let entry = Entry {
            kind,
            uri,
            options,
            router_id: None,
            confirmed: false,
        };
        self.entries.insert(local, entry);
    }

    /// A registration the router has not confirmed yet.
    pub fn add_procedure(&mut self, local: LocalId, procedure: String, options: Dict) {
        self.add(local, Kind::Procedure, procedure, options);
    }

    /// A subscription the router has not confirmed yet.
    pub fn add_topic(&mut self, local: LocalId, topic: String, options: Dict) {
        self.add(local, Kind::Topic, topic, options);
    }

    /// The router created (or re-created) the entry under `router_id`.
    pub fn confirmed(&mut self, local: LocalId, router_id: u64) {
        let Some(entry) = self.entries.get_mut(&local) else {
            return; // removed meanwhile
        };
        entry.router_id = Some(router_id);
        entry.confirmed = true;
        match entry.kind {
            Kind::Procedure => {
                self.by_registration.insert(router_id, local);
            }
            Kind::Topic => {
                let locals = self.by_subscription.entry(router_id).or_default();
                locals.push(local);
                locals.sort_unstable();
            }
        }
    }

    /// The entry's first REGISTER or SUBSCRIBE failed: forget it.
    pub fn forget_unconfirmed(&mut self, local: LocalId) {
        if self.entries.get(&local).is_some_and(|e| !e.confirmed) {
            self.entries.remove(&local);
        }
    }

    /// The local registration the router invokes under `registration`.
    pub fn registration(&self, registration: u64) -> Option<LocalId> {
        self.by_registration.get(&registration).copied()
    }

    /// The local subscriptions receiving events of router subscription `subscription`.
    pub fn subscribers(&self, subscription: u64) -> &[LocalId] {
        self.by_subscription
            .get(&subscription)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// Forgets a registration. `None` when there is no such registration; otherwise
    /// its router ID, if it has one now.
    pub fn remove_procedure(&mut self, local: LocalId) -> Option<Option<u64>> {
        let entry = self.remove_kind(local, Kind::Procedure)?;
        if let Some(router_id) = entry.router_id {
            self.by_registration.remove(&router_id);
        }
        Some(entry.router_id)
    }

    /// Forgets a subscription. `None` when there is no such subscription; otherwise
    /// the router subscription to end, if it has one and no other local subscription
    /// shares it.
    pub fn remove_topic(&mut self, local: LocalId) -> Option<Option<u64>> {
        let entry = self.remove_kind(local, Kind::Topic)?;
        let Some(router_id) = entry.router_id else {
            return Some(None);
        };
        let locals = self.by_subscription.entry(router_id).or_default();
        locals.retain(|&l| l != local);
        if locals.is_empty() {
            self.by_subscription.remove(&router_id);
            Some(Some(router_id))
        } else {
            Some(None)
        }
    }

    fn remove_kind(&mut self, local: LocalId, kind: Kind) -> Option<Entry> {
        match self.entries.get(&local) {
            Some(entry) if entry.kind == kind => self.entries.remove(&local),
            _ => None,
        }
    }

    /// The router removed a registration by itself; the local entry stays and is
    /// re-created on the next rejoin. Returns the procedure, if it was ours.
    pub fn registration_revoked(&mut self, registration: u64) -> Option<&str> {
        let local = self.by_registration.remove(&registration)?;
        let entry = self.entries.get_mut(&local)?;
        entry.router_id = None;
        Some(&entry.uri)
    }

    /// The router removed a subscription by itself; it is re-created on the next
    /// rejoin. Returns the topics of the local subscriptions it served.
    pub fn subscription_revoked(&mut self, subscription: u64) -> Vec<String> {
        let locals = self
            .by_subscription
            .remove(&subscription)
            .unwrap_or_default();
        let mut topics = Vec::new();
        for local in locals {
            if let Some(entry) = self.entries.get_mut(&local) {
                entry.router_id = None;
                topics.push(entry.uri.clone());
            }
        }
        topics
    }

    /// The session is gone: router IDs mean nothing any more.
    pub fn connection_lost(&mut self) {
        self.by_registration.clear();
        self.by_subscription.clear();
        self.entries.values_mut().for_each(|e| e.router_id = None);
    }

    /// Everything to re-create after a rejoin, registrations first, each oldest first.
    pub fn to_restore(&self) -> Vec<Restore> {
        let mut restores: Vec<Restore> = self
            .entries
            .iter()
            .filter(|(_, e)| e.confirmed)
            .map(|(&local, e)| Restore {
                local,
                kind: e.kind,
                uri: e.uri.clone(),
                options: e.options.clone(),
            })
            .collect();
        restores.sort_by_key(|r| (r.kind == Kind::Topic, r.local));
        restores
    }

    /// The entry `local`, to re-create it again after a failed try.
    pub fn restore_of(&self, local: LocalId) -> Option<Restore> {
        self.entries.get(&local).map(|e| Restore {
            local,
            kind: e.kind,
            uri: e.uri.clone(),
            options: e.options.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unconfirmed_entries_are_not_restored_and_can_be_forgotten() {
        let mut registry = Registry::default();
        registry.add_procedure(1, "com.example.a".into(), Dict::new());
        registry.add_procedure(2, "com.example.b".into(), Dict::new());
        registry.confirmed(1, 100);
        assert_eq!(registry.registration(100), Some(1));
        let restores: Vec<LocalId> = registry.to_restore().iter().map(|r| r.local).collect();
        assert_eq!(restores, vec![1]);
        registry.forget_unconfirmed(2);
        registry.forget_unconfirmed(1);
        assert_eq!(registry.remove_procedure(2), None);
        assert_eq!(registry.remove_procedure(1), Some(Some(100)));
    }

    #[test]
    fn a_shared_router_subscription_ends_with_its_last_local_subscription() {
        let mut registry = Registry::default();
        registry.add_topic(1, "com.example.t".into(), Dict::new());
        registry.add_topic(2, "com.example.t".into(), Dict::new());
        registry.confirmed(2, 7);
        registry.confirmed(1, 7);
        assert_eq!(registry.subscribers(7), &[1, 2]);
        assert_eq!(registry.remove_topic(1), Some(None));
        assert_eq!(registry.remove_topic(2), Some(Some(7)));
        assert!(registry.subscribers(7).is_empty());
    }

    #[test]
    fn restores_come_registrations_first_then_oldest_first() {
        let mut registry = Registry::default();
        registry.add_topic(1, "t".into(), Dict::new());
        registry.add_procedure(2, "p".into(), Dict::new());
        registry.add_procedure(3, "q".into(), Dict::new());
        for (local, id) in [(1, 10), (2, 20), (3, 30)] {
            registry.confirmed(local, id);
        }
        registry.connection_lost();
        assert_eq!(registry.registration(20), None);
        let order: Vec<LocalId> = registry.to_restore().iter().map(|r| r.local).collect();
        assert_eq!(order, vec![2, 3, 1]);
    }
}
