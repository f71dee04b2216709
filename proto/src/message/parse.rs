//! Reading a message: the type code and element count fix each element's type, and
//! every element is checked against it before a [`Message`] is built.

use super::{code, Message, MessageError, Payload, Signature};
use crate::id::is_valid_id;
use crate::value::{Dict, Value};

fn invalid<T>(text: impl Into<String>) -> Result<T, MessageError> {
    Err(MessageError(text.into()))
}

/// Reads the elements of one message in order, naming the message and element on error.
struct Fields {
    name: &'static str,
    items: std::vec::IntoIter<Value>,
    position: usize,
}

impl Fields {
    fn next(&mut self, what: &str) -> Result<Value, MessageError> {
        self.position += 1;
        match self.items.next() {
            Some(v) => Ok(v),
            None => invalid(format!("{} is missing its {what}", self.name)),
        }
    }

    fn wrong(&self, what: &str, found: &Value) -> MessageError {
        MessageError(format!(
            "{} element {} ({what}) must be {}, found {}",
            self.name,
            self.position,
            expected_type(what),
            found.type_name()
        ))
    }

    fn id(&mut self, what: &str) -> Result<u64, MessageError> {
        let id = self.integer(what)?;
        if is_valid_id(id) {
            Ok(id)
        } else {
            invalid(format!(
                "{} {what} {id} is outside the valid ID range 1..2^53",
                self.name
            ))
        }
    }

    /// A non-negative integer; a negative one is named as out of range.
    fn integer(&mut self, what: &str) -> Result<u64, MessageError> {
        let v = self.next(what)?;
        match v {
            Value::Int(n) if n < 0 => invalid(format!(
                "{} element {} ({what}) is {n}, outside the valid ID range 1..2^53",
                self.name, self.position
            )),
            _ => v.as_u64().ok_or_else(|| self.wrong(what, &v)),
        }
    }

    fn dict(&mut self, what: &str) -> Result<Dict, MessageError> {
        match self.next(what)? {
            Value::Dict(d) => Ok(d),
            other => Err(self.wrong(what, &other)),
        }
    }

    fn string(&mut self, what: &str) -> Result<String, MessageError> {
        match self.next(what)? {
            Value::String(s) => Ok(s),
            other => Err(self.wrong(what, &other)),
        }
    }

    /// The optional trailing `Arguments|list, ArgumentsKw|dict`. A binary value in
    /// place of the arguments list is a transparent payload as autobahn and Crossbar.io
    /// send it (with `enc_algo` in the details): it becomes the only argument, as the
    /// spec's form (`[Payload|binary]`) has it.
    fn payload(&mut self) -> Result<Payload, MessageError> {
        let mut payload = Payload::default();
        if self.items.len() > 0 {
            match self.next("arguments")? {
                Value::List(args) => payload.args = args,
                Value::Bytes(transparent) => payload.args = vec![Value::Bytes(transparent)],
                other => return Err(self.wrong("arguments", &other)),
            }
        }
        if self.items.len() > 0 {
            payload.kwargs = self.dict("keyword arguments")?;
        }
        Ok(payload)
    }
}

fn expected_type(what: &str) -> &'static str {
    match what {
        "arguments" => "a list",
        w if w.contains("details")
            || w.contains("options")
            || w.contains("extra")
            || w.contains("keyword") =>
        {
            "a dict"
        }
        w if w.contains("uri")
            || w.contains("realm")
            || w.contains("reason")
            || w.contains("method")
            || w.contains("signature")
            || w.contains("topic")
            || w.contains("procedure") =>
        {
            "a string"
        }
        _ => "an integer",
    }
}

/// (message name, permitted element counts including the type code)
pub(super) fn shape(code: u64) -> Option<(&'static str, &'static [usize])> {
    use code::*;
    Some(match code {
        HELLO => ("HELLO", &[3]),
        WELCOME => ("WELCOME", &[3]),
        ABORT => ("ABORT", &[3, 4, 5]),
        CHALLENGE => ("CHALLENGE", &[3]),
        AUTHENTICATE => ("AUTHENTICATE", &[3]),
        GOODBYE => ("GOODBYE", &[3]),
        ERROR => ("ERROR", &[5, 6, 7]),
        PUBLISH => ("PUBLISH", &[4, 5, 6]),
        PUBLISHED => ("PUBLISHED", &[3]),
        SUBSCRIBE => ("SUBSCRIBE", &[4]),
        SUBSCRIBED => ("SUBSCRIBED", &[3]),
        UNSUBSCRIBE => ("UNSUBSCRIBE", &[3]),
        UNSUBSCRIBED => ("UNSUBSCRIBED", &[2, 3]),
        EVENT => ("EVENT", &[4, 5, 6]),
        CALL => ("CALL", &[4, 5, 6]),
        CANCEL => ("CANCEL", &[3]),
        RESULT => ("RESULT", &[3, 4, 5]),
        REGISTER => ("REGISTER", &[4]),
        REGISTERED => ("REGISTERED", &[3]),
        UNREGISTER => ("UNREGISTER", &[3]),
        UNREGISTERED => ("UNREGISTERED", &[2, 3]),
        INVOCATION => ("INVOCATION", &[4, 5, 6]),
        INTERRUPT => ("INTERRUPT", &[3]),
        YIELD => ("YIELD", &[3, 4, 5]),
        _ => return None,
    })
}

/// The request types an ERROR may answer.
fn is_error_request_type(code: u64) -> bool {
    use code::*;
    matches!(
        code,
        PUBLISH | SUBSCRIBE | UNSUBSCRIBE | CALL | REGISTER | UNREGISTER | INVOCATION
    )
}

impl Message {
    /// Parses a decoded message, checking the type code, element count and every type.
    ///
    /// # Errors
    ///
    /// A [`MessageError`] saying what is wrong: the value is not a non-empty list, the
    /// type code is not an integer or not a message this crate knows, the element
    /// count is not one the message allows, an element has the wrong type, an ID is
    /// outside 1..2^53, an ERROR answers a request type that cannot fail, or an
    /// UNREGISTERED/UNSUBSCRIBED with details is not a valid revocation.
    ///
    /// ```
    /// use izaber_wamp_proto::message::Message;
    /// use izaber_wamp_proto::{Dict, Value};
    ///
    /// let goodbye = Value::List(vec![6.into(), Dict::new().into(), "wamp.close.normal".into()]);
    /// assert!(matches!(Message::from_value(goodbye)?, Message::Goodbye { .. }));
    ///
    /// let err = Message::from_value(Value::List(vec![6.into()])).unwrap_err();
    /// assert_eq!(err.to_string(), "GOODBYE must have 3 elements, found 1");
    /// # Ok::<(), izaber_wamp_proto::message::MessageError>(())
    /// ```
    pub fn from_value(value: Value) -> Result<Message, MessageError> {
        let items = match value {
            Value::List(items) => items,
            other => {
                return invalid(format!(
                    "a message must be a list, found {}",
                    other.type_name()
                ))
            }
        };
        let code = match items.first() {
            Some(Value::Int(n)) if *n < 0 => return invalid(format!("unknown message type {n}")),
            Some(v) => v.as_u64().ok_or_else(|| {
                MessageError(format!(
                    "message type must be an integer, found {}",
                    v.type_name()
                ))
            })?,
            None => return invalid("a message must not be an empty list"),
        };
        let (name, counts) =
            shape(code).ok_or_else(|| MessageError(format!("unknown message type {code}")))?;
        if !counts.contains(&items.len()) {
            return invalid(format!(
                "{name} must have {} elements, found {}",
                counts
                    .iter()
                    .map(usize::to_string)
                    .collect::<Vec<_>>()
                    .join(" or "),
                items.len()
            ));
        }
        let len = items.len();
        let mut f = Fields {
            name,
            items: items.into_iter(),
            position: 0,
        };
        f.next("type")?;
        Self::parse_fields(code, len, &mut f)
    }

    fn parse_fields(code: u64, len: usize, f: &mut Fields) -> Result<Message, MessageError> {
        use code::*;
        Ok(match code {
            HELLO => Message::Hello {
                realm: f.string("realm uri")?,
                details: f.dict("details")?,
            },
            WELCOME => Message::Welcome {
                session: f.id("session")?,
                details: f.dict("details")?,
            },
            ABORT => Message::Abort {
                details: f.dict("details")?,
                reason: f.string("reason uri")?,
                payload: f.payload()?,
            },
            CHALLENGE => Message::Challenge {
                method: f.string("auth method")?,
                extra: f.dict("extra")?,
            },
            AUTHENTICATE => Message::Authenticate {
                signature: Signature(f.string("signature")?),
                extra: f.dict("extra")?,
            },
            GOODBYE => Message::Goodbye {
                details: f.dict("details")?,
                reason: f.string("reason uri")?,
            },
            ERROR => {
                let request_type = f.integer("request type")?;
                if !is_error_request_type(request_type) {
                    return invalid(format!(
                        "ERROR answers request type {request_type}, which cannot fail"
                    ));
                }
                Message::Error {
                    request_type,
                    request: f.id("request")?,
                    details: f.dict("details")?,
                    error: f.string("error uri")?,
                    payload: f.payload()?,
                }
            }
            PUBLISH => Message::Publish {
                request: f.id("request")?,
                options: f.dict("options")?,
                topic: f.string("topic uri")?,
                payload: f.payload()?,
            },
            PUBLISHED => Message::Published {
                request: f.id("request")?,
                publication: f.id("publication")?,
            },
            SUBSCRIBE => Message::Subscribe {
                request: f.id("request")?,
                options: f.dict("options")?,
                topic: f.string("topic uri")?,
            },
            SUBSCRIBED => Message::Subscribed {
                request: f.id("request")?,
                subscription: f.id("subscription")?,
            },
            UNSUBSCRIBE => Message::Unsubscribe {
                request: f.id("request")?,
                subscription: f.id("subscription")?,
            },
            UNSUBSCRIBED if len == 3 => Self::revocation(f, "subscription")?,
            UNSUBSCRIBED => Message::Unsubscribed {
                request: f.id("request")?,
            },
            EVENT => Message::Event {
                subscription: f.id("subscription")?,
                publication: f.id("publication")?,
                details: f.dict("details")?,
                payload: f.payload()?,
            },
            CALL => Message::Call {
                request: f.id("request")?,
                options: f.dict("options")?,
                procedure: f.string("procedure uri")?,
                payload: f.payload()?,
            },
            CANCEL => Message::Cancel {
                request: f.id("request")?,
                options: f.dict("options")?,
            },
            RESULT => Message::Result {
                request: f.id("request")?,
                details: f.dict("details")?,
                payload: f.payload()?,
            },
            REGISTER => Message::Register {
                request: f.id("request")?,
                options: f.dict("options")?,
                procedure: f.string("procedure uri")?,
            },
            REGISTERED => Message::Registered {
                request: f.id("request")?,
                registration: f.id("registration")?,
            },
            UNREGISTER => Message::Unregister {
                request: f.id("request")?,
                registration: f.id("registration")?,
            },
            UNREGISTERED if len == 3 => Self::revocation(f, "registration")?,
            UNREGISTERED => Message::Unregistered {
                request: f.id("request")?,
            },
            INVOCATION => Message::Invocation {
                request: f.id("request")?,
                registration: f.id("registration")?,
                details: f.dict("details")?,
                payload: f.payload()?,
            },
            INTERRUPT => Message::Interrupt {
                request: f.id("request")?,
                options: f.dict("options")?,
            },
            YIELD => Message::Yield {
                request: f.id("request")?,
                options: f.dict("options")?,
                payload: f.payload()?,
            },
            _ => return invalid(format!("unknown message type {code}")),
        })
    }

    /// `[35|67, 0, {"subscription"|"registration": id, ...}]`
    fn revocation(f: &mut Fields, key: &str) -> Result<Message, MessageError> {
        if f.integer("request")? != 0 {
            return invalid(format!(
                "{} with details must have request 0 (a revocation)",
                f.name
            ));
        }
        let details = f.dict("details")?;
        match details.get(key).and_then(Value::as_u64) {
            Some(id) if is_valid_id(id) => {}
            _ => return invalid(format!("{} revocation must name a valid {key} ID", f.name)),
        }
        Ok(if key == "subscription" {
            Message::SubscriptionRevoked { details }
        } else {
            Message::RegistrationRevoked { details }
        })
    }
}
