//! Helpers for the procedures of Zaber's Nexus router, each one call under `uri_base`.
//!
//! Each returns the procedure's first positional result (`Value::Null` when there is
//! none), as the Python library does; use [`Wamp::call`] directly for the whole result.

use super::Wamp;
use crate::error::Result;
use crate::proto::value::{to_value, Value};
use serde::Serialize;

impl Wamp {
    fn first_result(&self, procedure: &str, args: impl Serialize) -> Result<Value> {
        let result = self.call(procedure, args)?;
        Ok(result.args.into_iter().next().unwrap_or(Value::Null))
    }

    /// Who the session is logged in as (`auth.whoami`).
    pub fn whoami(&self) -> Result<Value> {
        self.first_result("auth.whoami", ())
    }

    /// Active Directory users (`ad.users`).
    pub fn ad_users(&self) -> Result<Value> {
        self.first_result("ad.users", ())
    }

    /// Active Directory groups (`ad.groups`).
    pub fn ad_groups(&self) -> Result<Value> {
        self.first_result("ad.groups", ())
    }

    /// Publishes `data` in the roster under `key` for as long as this session lives
    /// (`system.roster.register`); `visibility` is sent as given (`None` as null).
    pub fn roster_register(
        &self,
        key: &str,
        data: impl Serialize,
        visibility: Option<&str>,
    ) -> Result<Value> {
        self.first_result(
            "system.roster.register",
            (key, to_value(&data)?, visibility),
        )
    }

    /// The roster entries under `key` (`system.roster.query`).
    pub fn roster_query(&self, key: &str) -> Result<Value> {
        self.first_result("system.roster.query", (key,))
    }

    /// Removes this session's roster entry under `key` (`system.roster.unregister`).
    pub fn roster_unregister(&self, key: &str) -> Result<Value> {
        self.first_result("system.roster.unregister", (key,))
    }

    /// Stores `value` under `key` in the user's metadata (`my.metadata.set`); `yaml`
    /// says the value is YAML text to be parsed by the server.
    pub fn metadata_set(&self, key: &str, value: impl Serialize, yaml: bool) -> Result<Value> {
        self.first_result("my.metadata.set", (key, to_value(&value)?, yaml))
    }

    /// The user's metadata under `key` (`my.metadata.get`).
    pub fn metadata_get(&self, key: &str) -> Result<Value> {
        self.first_result("my.metadata.get", (key,))
    }

    /// All of the user's metadata (`my.metadata.list`).
    pub fn metadata_list(&self) -> Result<Value> {
        self.first_result("my.metadata.list", ())
    }

    /// Deletes a metadata record (`my.metadata.delete`).
    pub fn metadata_delete(&self, key: &str) -> Result<Value> {
        self.first_result("my.metadata.delete", (key,))
    }

    /// Creates an API key, with optional data for its record (`my.apikeys.create`).
    pub fn apikeys_create(&self, data: Option<Value>) -> Result<Value> {
        self.first_result("my.apikeys.create", (data,))
    }

    /// The user's API keys (`my.apikeys.list`).
    pub fn apikeys_list(&self) -> Result<Value> {
        self.first_result("my.apikeys.list", ())
    }

    /// Deletes an API key by its ID (`my.apikeys.delete`).
    pub fn apikeys_delete(&self, uuid_b64: &str) -> Result<Value> {
        self.first_result("my.apikeys.delete", (uuid_b64,))
    }

    /// Creates a one-time password (`my.otps.create`).
    pub fn otp_create(&self) -> Result<Value> {
        self.first_result("my.otps.create", ())
    }

    /// The user's one-time passwords (`my.otps.list`).
    pub fn otp_list(&self) -> Result<Value> {
        self.first_result("my.otps.list", ())
    }

    /// Deletes a one-time password by its ID (`my.otps.delete`).
    pub fn otp_delete(&self, uuid_b64: &str) -> Result<Value> {
        self.first_result("my.otps.delete", (uuid_b64,))
    }
}
