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
    ///
    /// ```no_run
    /// # let wamp: izaber_wamp::Wamp = unimplemented!();
    /// let me = wamp.whoami()?;
    /// println!("logged in as {me}");
    /// # Ok::<(), izaber_wamp::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Client::call`](crate::Client::call).
    pub fn whoami(&self) -> Result<Value> {
        self.first_result("auth.whoami", ())
    }

    /// Active Directory users (`ad.users`).
    ///
    /// ```no_run
    /// # let wamp: izaber_wamp::Wamp = unimplemented!();
    /// println!("{}", wamp.ad_users()?);
    /// # Ok::<(), izaber_wamp::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Client::call`](crate::Client::call).
    pub fn ad_users(&self) -> Result<Value> {
        self.first_result("ad.users", ())
    }

    /// Active Directory groups (`ad.groups`).
    ///
    /// ```no_run
    /// # let wamp: izaber_wamp::Wamp = unimplemented!();
    /// println!("{}", wamp.ad_groups()?);
    /// # Ok::<(), izaber_wamp::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Client::call`](crate::Client::call).
    pub fn ad_groups(&self) -> Result<Value> {
        self.first_result("ad.groups", ())
    }

    /// Publishes `data` in the roster under `key` for as long as this session lives
    /// (`system.roster.register`); `visibility` is sent as given (`None` as null).
    ///
    /// ```no_run
    /// # let wamp: izaber_wamp::Wamp = unimplemented!();
    /// use std::collections::BTreeMap;
    ///
    /// wamp.roster_register("myapp.workers", BTreeMap::from([("host", "build-3")]), None)?;
    /// println!("{}", wamp.roster_query("myapp.workers")?);
    /// # Ok::<(), izaber_wamp::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Serialization`](crate::Error::Serialization) when `data` cannot be
    /// converted to a [`Value`]; otherwise as [`Client::call`](crate::Client::call).
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
    ///
    /// ```no_run
    /// # let wamp: izaber_wamp::Wamp = unimplemented!();
    /// println!("{}", wamp.roster_query("myapp.workers")?);
    /// # Ok::<(), izaber_wamp::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Client::call`](crate::Client::call).
    pub fn roster_query(&self, key: &str) -> Result<Value> {
        self.first_result("system.roster.query", (key,))
    }

    /// Removes this session's roster entry under `key` (`system.roster.unregister`).
    ///
    /// ```no_run
    /// # let wamp: izaber_wamp::Wamp = unimplemented!();
    /// wamp.roster_unregister("myapp.workers")?;
    /// # Ok::<(), izaber_wamp::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Client::call`](crate::Client::call).
    pub fn roster_unregister(&self, key: &str) -> Result<Value> {
        self.first_result("system.roster.unregister", (key,))
    }

    /// Stores `value` under `key` in the user's metadata (`my.metadata.set`); `yaml`
    /// says the value is YAML text to be parsed by the server.
    ///
    /// ```no_run
    /// # let wamp: izaber_wamp::Wamp = unimplemented!();
    /// wamp.metadata_set("ui.theme", "dark", false)?;
    /// println!("{}", wamp.metadata_get("ui.theme")?);
    /// # Ok::<(), izaber_wamp::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Serialization`](crate::Error::Serialization) when `value` cannot be
    /// converted to a [`Value`]; otherwise as [`Client::call`](crate::Client::call).
    pub fn metadata_set(&self, key: &str, value: impl Serialize, yaml: bool) -> Result<Value> {
        self.first_result("my.metadata.set", (key, to_value(&value)?, yaml))
    }

    /// The user's metadata under `key` (`my.metadata.get`).
    ///
    /// ```no_run
    /// # let wamp: izaber_wamp::Wamp = unimplemented!();
    /// println!("{}", wamp.metadata_get("ui.theme")?);
    /// # Ok::<(), izaber_wamp::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Client::call`](crate::Client::call).
    pub fn metadata_get(&self, key: &str) -> Result<Value> {
        self.first_result("my.metadata.get", (key,))
    }

    /// All of the user's metadata (`my.metadata.list`).
    ///
    /// ```no_run
    /// # let wamp: izaber_wamp::Wamp = unimplemented!();
    /// println!("{}", wamp.metadata_list()?);
    /// # Ok::<(), izaber_wamp::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Client::call`](crate::Client::call).
    pub fn metadata_list(&self) -> Result<Value> {
        self.first_result("my.metadata.list", ())
    }

    /// Deletes a metadata record (`my.metadata.delete`).
    ///
    /// ```no_run
    /// # let wamp: izaber_wamp::Wamp = unimplemented!();
    /// wamp.metadata_delete("ui.theme")?;
    /// # Ok::<(), izaber_wamp::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Client::call`](crate::Client::call).
    pub fn metadata_delete(&self, key: &str) -> Result<Value> {
        self.first_result("my.metadata.delete", (key,))
    }

    /// Creates an API key, with optional data for its record (`my.apikeys.create`).
    ///
    /// ```no_run
    /// # let wamp: izaber_wamp::Wamp = unimplemented!();
    /// use izaber_wamp::Value;
    ///
    /// let key = wamp.apikeys_create(Some(Value::from("for the build server")))?;
    /// println!("{key}");
    /// # Ok::<(), izaber_wamp::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Client::call`](crate::Client::call).
    pub fn apikeys_create(&self, data: Option<Value>) -> Result<Value> {
        self.first_result("my.apikeys.create", (data,))
    }

    /// The user's API keys (`my.apikeys.list`).
    ///
    /// ```no_run
    /// # let wamp: izaber_wamp::Wamp = unimplemented!();
    /// println!("{}", wamp.apikeys_list()?);
    /// # Ok::<(), izaber_wamp::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Client::call`](crate::Client::call).
    pub fn apikeys_list(&self) -> Result<Value> {
        self.first_result("my.apikeys.list", ())
    }

    /// Deletes an API key by its ID (`my.apikeys.delete`).
    ///
    /// ```no_run
    /// # let wamp: izaber_wamp::Wamp = unimplemented!();
    /// # let key_id = "";
    /// wamp.apikeys_delete(key_id)?; // the key's ID, as apikeys_list shows it
    /// # Ok::<(), izaber_wamp::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Client::call`](crate::Client::call).
    pub fn apikeys_delete(&self, uuid_b64: &str) -> Result<Value> {
        self.first_result("my.apikeys.delete", (uuid_b64,))
    }

    /// Creates a one-time password (`my.otps.create`).
    ///
    /// ```no_run
    /// # let wamp: izaber_wamp::Wamp = unimplemented!();
    /// println!("{}", wamp.otp_create()?);
    /// # Ok::<(), izaber_wamp::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Client::call`](crate::Client::call).
    pub fn otp_create(&self) -> Result<Value> {
        self.first_result("my.otps.create", ())
    }

    /// The user's one-time passwords (`my.otps.list`).
    ///
    /// ```no_run
    /// # let wamp: izaber_wamp::Wamp = unimplemented!();
    /// println!("{}", wamp.otp_list()?);
    /// # Ok::<(), izaber_wamp::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Client::call`](crate::Client::call).
    pub fn otp_list(&self) -> Result<Value> {
        self.first_result("my.otps.list", ())
    }

    /// Deletes a one-time password by its ID (`my.otps.delete`).
    ///
    /// ```no_run
    /// # let wamp: izaber_wamp::Wamp = unimplemented!();
    /// # let otp_id = "";
    /// wamp.otp_delete(otp_id)?; // the password's ID, as otp_list shows it
    /// # Ok::<(), izaber_wamp::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Client::call`](crate::Client::call).
    pub fn otp_delete(&self, uuid_b64: &str) -> Result<Value> {
        self.first_result("my.otps.delete", (uuid_b64,))
    }
}
