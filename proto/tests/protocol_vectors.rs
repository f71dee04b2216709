//! Byte-level vectors for the sans-I/O protocol layer, for every message type and for
//! each of the JSON, MessagePack and CBOR serializers.
//!
//! The hex vectors below were produced with autobahn-python 26.10.2's serializers
//! (`JsonObjectSerializer`, `MsgPackObjectSerializer` and `CBORObjectSerializer`, each
//! with `batched=False`) from plain Python lists. Dictionaries have a single key, or
//! keys in sorted order, so key order cannot differ between implementations. The
//! one-off generator script is deliberately not part of the repository.
//!
//! Every vector is decoded into the expected hand-written [`Message`], re-encoded, and
//! the re-encoding decoded again; where our encoding is canonical the re-encoded bytes
//! must equal autobahn's exactly.
//!
//! MessagePack and CBOR are Cargo features: in builds without them, their vectors and
//! tests are skipped.

use izaber_wamp_proto::codec::{CodecError, Serializer};
use izaber_wamp_proto::message::{code, Message, MessageError, Payload};
use izaber_wamp_proto::{Dict, Value};

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// The serializers of `list` this build has.
fn compiled_in(list: impl IntoIterator<Item = Serializer>) -> Vec<Serializer> {
    list.into_iter().filter(|s| s.is_compiled_in()).collect()
}

/// Every serializer this build has.
fn serializers() -> Vec<Serializer> {
    compiled_in([Serializer::Json, Serializer::MsgPack, Serializer::Cbor])
}

/// The binary serializers this build has.
fn binary_serializers() -> Vec<Serializer> {
    compiled_in([Serializer::MsgPack, Serializer::Cbor])
}

/// One message as autobahn-python encodes it with each serializer (hex).
struct Vector {
    json: &'static str,
    msgpack: &'static str,
    cbor: &'static str,
}

impl Vector {
    fn bytes(&self, serializer: Serializer) -> Vec<u8> {
        unhex(match serializer {
            Serializer::Json => self.json,
            Serializer::MsgPack => self.msgpack,
            Serializer::Cbor => self.cbor,
            other => panic!("no test vectors for {other:?}"),
        })
    }
}

fn unhex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    assert!(
        digits.len() % 2 == 0,
        "odd number of hex digits in {text:?}"
    );
    digits
        .chunks(2)
        .map(|pair| {
            u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16)
                .unwrap_or_else(|e| panic!("bad hex {pair:?}: {e}"))
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn dict<const N: usize>(entries: [(&str, Value); N]) -> Dict {
    entries
        .into_iter()
        .map(|(key, value)| (key.to_owned(), value))
        .collect()
}

fn s(text: &str) -> Value {
    Value::from(text)
}

fn list(items: Vec<Value>) -> Value {
    Value::List(items)
}

fn payload(args: Vec<Value>, kwargs: Dict) -> Payload {
    Payload::new(args, kwargs)
}

/// What re-encoding the decoded vector gives, per serializer.
#[derive(Clone, Copy)]
enum Reencode {
    /// Exactly autobahn's bytes.
    Same,
    /// Exactly the bytes of another autobahn vector (e.g. without empty payload elements).
    As(&'static Vector),
    /// Different bytes that still decode to the same message (documented per use).
    #[cfg(feature = "cbor")]
    Differs,
}

/// Checks one vector with one serializer: decode gives `expected`, encode-then-decode
/// gives `expected` again, and the re-encoded bytes are as `reencode` says.
fn check_with(vector: &Vector, serializer: Serializer, expected: &Message, reencode: Reencode) {
    let bytes = vector.bytes(serializer);
    let decoded = serializer
        .decode(&bytes)
        .unwrap_or_else(|e| panic!("{serializer}: cannot decode {}: {e}", hex(&bytes)));
    assert_eq!(&decoded, expected, "{serializer}: decoded message");

    let encoded = serializer
        .encode(expected.clone())
        .unwrap_or_else(|e| panic!("{serializer}: cannot encode {expected:?}: {e}"));
    assert_eq!(
        serializer.decode(&encoded).as_ref(),
        Ok(expected),
        "{serializer}: re-encoded message {} decodes differently",
        hex(&encoded)
    );
    match reencode {
        Reencode::Same => assert_eq!(
            hex(&encoded),
            hex(&bytes),
            "{serializer}: our encoding differs from autobahn's"
        ),
        Reencode::As(other) => assert_eq!(
            hex(&encoded),
            hex(&other.bytes(serializer)),
            "{serializer}: our encoding differs from autobahn's shorter form"
        ),
        #[cfg(feature = "cbor")]
        Reencode::Differs => assert_ne!(
            hex(&encoded),
            hex(&bytes),
            "{serializer}: expected our encoding to differ from autobahn's"
        ),
    }
}

/// Checks a vector with every serializer, expecting byte-identical re-encoding.
fn check(vector: &Vector, expected: Message) {
    for serializer in serializers() {
        check_with(vector, serializer, &expected, Reencode::Same);
    }
}

// ---------------------------------------------------------------------------
// Vectors (generated by autobahn-python 26.10.2; see the module docs)
// ---------------------------------------------------------------------------

/// `[1,"realm1",{"roles":{"caller":{"features":{"call_canceling":true}}}}]`
const HELLO: Vector = Vector {
    json: "5b312c227265616c6d31222c7b22726f6c6573223a7b2263616c6c6572223a7b2266656174757265\
         73223a7b2263616c6c5f63616e63656c696e67223a747275657d7d7d7d5d",
    msgpack: "9301a67265616c6d3181a5726f6c657381a663616c6c657281a8666561747572657381ae63616c6c\
         5f63616e63656c696e67c3",
    cbor: "8301667265616c6d31a165726f6c6573a16663616c6c6572a1686665617475726573a16e63616c6c\
         5f63616e63656c696e67f5",
};

/// `[2,9007199254740992,{"authid":"joe"}]`
const WELCOME: Vector = Vector {
    json: "5b322c393030373139393235343734303939322c7b22617574686964223a226a6f65227d5d",
    msgpack: "9302cf002000000000000081a6617574686964a36a6f65",
    cbor: "83021b0020000000000000a166617574686964636a6f65",
};

/// `[3,{"message":"no such realm"},"wamp.error.no_such_realm"]`
const ABORT_3: Vector = Vector {
    json: "5b332c7b226d657373616765223a226e6f2073756368207265616c6d227d2c2277616d702e657272\
         6f722e6e6f5f737563685f7265616c6d225d",
    msgpack: "930381a76d657373616765ad6e6f2073756368207265616c6db877616d702e6572726f722e6e6f5f\
         737563685f7265616c6d",
    cbor: "8303a1676d6573736167656d6e6f2073756368207265616c6d781877616d702e6572726f722e6e6f\
         5f737563685f7265616c6d",
};

/// `[3,{},"wamp.error.not_authorized",["denied",7]]`
const ABORT_4: Vector = Vector {
    json: "5b332c7b7d2c2277616d702e6572726f722e6e6f745f617574686f72697a6564222c5b2264656e69\
         6564222c375d5d",
    msgpack: "940380b977616d702e6572726f722e6e6f745f617574686f72697a656492a664656e69656407",
    cbor: "8403a0781977616d702e6572726f722e6e6f745f617574686f72697a6564826664656e69656407",
};

/// `[3,{},"wamp.error.not_authorized",[],{"code":42}]`
const ABORT_5: Vector = Vector {
    json: "5b332c7b7d2c2277616d702e6572726f722e6e6f745f617574686f72697a6564222c5b5d2c7b2263\
         6f6465223a34327d5d",
    msgpack: "950380b977616d702e6572726f722e6e6f745f617574686f72697a65649081a4636f64652a",
    cbor: "8503a0781977616d702e6572726f722e6e6f745f617574686f72697a656480a164636f6465182a",
};

/// `[4,"wampcra",{"challenge":"{\"nonce\": \"LHRTC9zeOIrt_9U3\"}"}]`
const CHALLENGE: Vector = Vector {
    json: "5b342c2277616d70637261222c7b226368616c6c656e6765223a227b5c226e6f6e63655c223a205c\
         224c48525443397a654f4972745f3955335c227d227d5d",
    msgpack: "9304a777616d7063726181a96368616c6c656e6765bd7b226e6f6e6365223a20224c48525443397a\
         654f4972745f395533227d",
    cbor: "83046777616d70637261a1696368616c6c656e6765781d7b226e6f6e6365223a20224c4852544339\
         7a654f4972745f395533227d",
};

/// `[5,"s3cret-ticket",{}]`
const AUTHENTICATE: Vector = Vector {
    json: "5b352c227333637265742d7469636b6574222c7b7d5d",
    msgpack: "9305ad7333637265742d7469636b657480",
    cbor: "83056d7333637265742d7469636b6574a0",
};

/// `[6,{"message":"The host is shutting down now."},"wamp.close.system_shutdown"]`
const GOODBYE: Vector = Vector {
    json: "5b362c7b226d657373616765223a2254686520686f7374206973207368757474696e6720646f776e\
         206e6f772e227d2c2277616d702e636c6f73652e73797374656d5f73687574646f776e225d",
    msgpack: "930681a76d657373616765be54686520686f7374206973207368757474696e6720646f776e206e6f\
         772eba77616d702e636c6f73652e73797374656d5f73687574646f776e",
    cbor: "8306a1676d657373616765781e54686520686f7374206973207368757474696e6720646f776e206e\
         6f772e781a77616d702e636c6f73652e73797374656d5f73687574646f776e",
};

/// `[8,32,713845233,{},"wamp.error.not_authorized"]`
const ERROR_5: Vector = Vector {
    json: "5b382c33322c3731333834353233332c7b7d2c2277616d702e6572726f722e6e6f745f617574686f\
         72697a6564225d",
    msgpack: "950820ce2a8c69f180b977616d702e6572726f722e6e6f745f617574686f72697a6564",
    cbor: "850818201a2a8c69f1a0781977616d702e6572726f722e6e6f745f617574686f72697a6564",
};

/// `[8,64,25349185,{},"wamp.error.procedure_already_exists",["already registered"]]`
const ERROR_6: Vector = Vector {
    json: "5b382c36342c32353334393138352c7b7d2c2277616d702e6572726f722e70726f6365647572655f\
         616c72656164795f657869737473222c5b22616c72656164792072656769737465726564225d5d",
    msgpack: "960840ce0182cc4180d92377616d702e6572726f722e70726f6365647572655f616c72656164795f\
         65786973747391b2616c72656164792072656769737465726564",
    cbor: "860818401a0182cc41a0782377616d702e6572726f722e70726f6365647572655f616c7265616479\
         5f6578697374738172616c72656164792072656769737465726564",
};

/// `[8,48,7814135,{},"com.myapp.error.object_write_protected",["Object is write protected."...`
const ERROR_7: Vector = Vector {
    json: "5b382c34382c373831343133352c7b7d2c22636f6d2e6d796170702e6572726f722e6f626a656374\
         5f77726974655f70726f746563746564222c5b224f626a6563742069732077726974652070726f74\
         65637465642e225d2c7b227365766572697479223a337d5d",
    msgpack: "970830ce00773bf780d926636f6d2e6d796170702e6572726f722e6f626a6563745f77726974655f\
         70726f74656374656491ba4f626a6563742069732077726974652070726f7465637465642e81a873\
         6576657269747903",
    cbor: "870818301a00773bf7a07826636f6d2e6d796170702e6572726f722e6f626a6563745f7772697465\
         5f70726f74656374656481781a4f626a6563742069732077726974652070726f7465637465642ea1\
         68736576657269747903",
};

/// `[16,239714735,{},"com.myapp.mytopic1",[],{"color":"orange"}]`
const PUBLISH: Vector = Vector {
    json: "5b31362c3233393731343733352c7b7d2c22636f6d2e6d796170702e6d79746f70696331222c5b5d\
         2c7b22636f6c6f72223a226f72616e6765227d5d",
    msgpack: "9610ce0e49c1af80b2636f6d2e6d796170702e6d79746f706963319081a5636f6c6f72a66f72616e\
         6765",
    cbor: "86101a0e49c1afa072636f6d2e6d796170702e6d79746f7069633180a165636f6c6f72666f72616e\
         6765",
};

/// `[17,239714735,4429313566]`
const PUBLISHED: Vector = Vector {
    json: "5b31372c3233393731343733352c343432393331333536365d",
    msgpack: "9311ce0e49c1afcf000000010801f61e",
    cbor: "83111a0e49c1af1b000000010801f61e",
};

/// `[32,713845233,{"match":"prefix"},"com.myapp."]`
const SUBSCRIBE: Vector = Vector {
    json: "5b33322c3731333834353233332c7b226d61746368223a22707265666978227d2c22636f6d2e6d79\
         6170702e225d",
    msgpack: "9420ce2a8c69f181a56d61746368a6707265666978aa636f6d2e6d796170702e",
    cbor: "8418201a2a8c69f1a1656d61746368667072656669786a636f6d2e6d796170702e",
};

/// `[33,713845233,5512315355]`
const SUBSCRIBED: Vector = Vector {
    json: "5b33332c3731333834353233332c353531323331353335355d",
    msgpack: "9321ce2a8c69f1cf00000001488f41db",
    cbor: "8318211a2a8c69f11b00000001488f41db",
};

/// `[34,85346237,5512315355]`
const UNSUBSCRIBE: Vector = Vector {
    json: "5b33342c38353334363233372c353531323331353335355d",
    msgpack: "9322ce051647bdcf00000001488f41db",
    cbor: "8318221a051647bd1b00000001488f41db",
};

/// `[35,85346237]`
const UNSUBSCRIBED: Vector = Vector {
    json: "5b33352c38353334363233375d",
    msgpack: "9223ce051647bd",
    cbor: "8218231a051647bd",
};

/// `[35,0,{"reason":"x","subscription":5512315355}]`
const SUBSCRIPTION_REVOKED: Vector = Vector {
    json: "5b33352c302c7b22726561736f6e223a2278222c22737562736372697074696f6e223a3535313233\
         31353335357d5d",
    msgpack: "93230082a6726561736f6ea178ac737562736372697074696f6ecf00000001488f41db",
    cbor: "83182300a266726561736f6e61786c737562736372697074696f6e1b00000001488f41db",
};

/// `[36,5512315355,4429313566,{},["Hello, world!"]]`
const EVENT: Vector = Vector {
    json: "5b33362c353531323331353335352c343432393331333536362c7b7d2c5b2248656c6c6f2c20776f\
         726c6421225d5d",
    msgpack: "9524cf00000001488f41dbcf000000010801f61e8091ad48656c6c6f2c20776f726c6421",
    cbor: "8518241b00000001488f41db1b000000010801f61ea0816d48656c6c6f2c20776f726c6421",
};

/// `[48,7814135,{"timeout":1000},"com.myapp.add",[23,7]]`
const CALL: Vector = Vector {
    json: "5b34382c373831343133352c7b2274696d656f7574223a313030307d2c22636f6d2e6d796170702e\
         616464222c5b32332c375d5d",
    msgpack: "9530ce00773bf781a774696d656f7574cd03e8ad636f6d2e6d796170702e616464921707",
    cbor: "8518301a00773bf7a16774696d656f75741903e86d636f6d2e6d796170702e616464821707",
};

/// `[49,7814135,{"mode":"killnowait"}]`
const CANCEL: Vector = Vector {
    json: "5b34392c373831343133352c7b226d6f6465223a226b696c6c6e6f77616974227d5d",
    msgpack: "9331ce00773bf781a46d6f6465aa6b696c6c6e6f77616974",
    cbor: "8318311a00773bf7a1646d6f64656a6b696c6c6e6f77616974",
};

/// `[50,7814135,{},[30]]`
const RESULT: Vector = Vector {
    json: "5b35302c373831343133352c7b7d2c5b33305d5d",
    msgpack: "9432ce00773bf780911e",
    cbor: "8418321a00773bf7a081181e",
};

/// `[64,25349185,{"match":"wildcard"},"com.myapp..add"]`
const REGISTER: Vector = Vector {
    json: "5b36342c32353334393138352c7b226d61746368223a2277696c6463617264227d2c22636f6d2e6d\
         796170702e2e616464225d",
    msgpack: "9440ce0182cc4181a56d61746368a877696c6463617264ae636f6d2e6d796170702e2e616464",
    cbor: "8418401a0182cc41a1656d617463686877696c64636172646e636f6d2e6d796170702e2e616464",
};

/// `[65,25349185,2103333224]`
const REGISTERED: Vector = Vector {
    json: "5b36352c32353334393138352c323130333333333232345d",
    msgpack: "9341ce0182cc41ce7d5e5168",
    cbor: "8318411a0182cc411a7d5e5168",
};

/// `[66,788923562,2103333224]`
const UNREGISTER: Vector = Vector {
    json: "5b36362c3738383932333536322c323130333333333232345d",
    msgpack: "9342ce2f0604aace7d5e5168",
    cbor: "8318421a2f0604aa1a7d5e5168",
};

/// `[67,788923562]`
const UNREGISTERED: Vector = Vector {
    json: "5b36372c3738383932333536325d",
    msgpack: "9243ce2f0604aa",
    cbor: "8218431a2f0604aa",
};

/// `[67,0,{"registration":2103333224}]`
const REGISTRATION_REVOKED: Vector = Vector {
    json: "5b36372c302c7b22726567697374726174696f6e223a323130333333333232347d5d",
    msgpack: "93430081ac726567697374726174696f6ece7d5e5168",
    cbor: "83184300a16c726567697374726174696f6e1a7d5e5168",
};

/// `[68,6131533,9823526,{},["johnny"],{"firstname":"John"}]`
const INVOCATION: Vector = Vector {
    json: "5b36382c363133313533332c393832333532362c7b7d2c5b226a6f686e6e79225d2c7b2266697273\
         746e616d65223a224a6f686e227d5d",
    msgpack: "9644ce005d8f4dce0095e5268091a66a6f686e6e7981a966697273746e616d65a44a6f686e",
    cbor: "8618441a005d8f4d1a0095e526a081666a6f686e6e79a16966697273746e616d65644a6f686e",
};

/// `[69,6131533,{"mode":"kill"}]`
const INTERRUPT: Vector = Vector {
    json: "5b36392c363133313533332c7b226d6f6465223a226b696c6c227d5d",
    msgpack: "9345ce005d8f4d81a46d6f6465a46b696c6c",
    cbor: "8318451a005d8f4da1646d6f6465646b696c6c",
};

/// `[70,6131533,{},[],{"userid":123}]`
const YIELD: Vector = Vector {
    json: "5b37302c363133313533332c7b7d2c5b5d2c7b22757365726964223a3132337d5d",
    msgpack: "9546ce005d8f4d809081a67573657269647b",
    cbor: "8518461a005d8f4da080a166757365726964187b",
};

/// `[48,1,{},"com.example.echo",[0,1,23,24,127,128,255,256,65535,65536,4294967295,429496729...`
const CALL_INTEGERS: Vector = Vector {
    json: "5b34382c312c7b7d2c22636f6d2e6578616d706c652e6563686f222c5b302c312c32332c32342c31\
         32372c3132382c3235352c3235362c36353533352c36353533362c343239343936373239352c3432\
         39343936373239362c393030373139393235343734303939322c3932323333373230333638353437\
         37353830372c31383434363734343037333730393535313631352c2d312c2d32342c2d32352c2d33\
         322c2d33332c2d3132382c2d3132392c2d33323736382c2d33323736392c2d323134373438333634\
         382c2d323134373438333634392c2d393232333337323033363835343737353830385d5d",
    msgpack: "95300180b0636f6d2e6578616d706c652e6563686fdc001b000117187fcc80ccffcd0100cdffffce\
         00010000ceffffffffcf0000000100000000cf0020000000000000cf7fffffffffffffffcfffffff\
         ffffffffffffe8e7e0d0dfd080d1ff7fd18000d2ffff7fffd280000000d3ffffffff7fffffffd380\
         00000000000000",
    cbor: "85183001a070636f6d2e6578616d706c652e6563686f981b0001171818187f188018ff19010019ff\
         ff1a000100001affffffff1b00000001000000001b00200000000000001b7fffffffffffffff1bff\
         ffffffffffffff20373818381f3820387f3880397fff3980003a7fffffff3a800000003b7fffffff\
         ffffffff",
};

/// `[36,5512315355,4429313566,{},[true,false,null,1.5,-0.25,3.141592653589793,"","héllo ☃ 😀...`
const EVENT_MIXED: Vector = Vector {
    json: "5b33362c353531323331353335352c343432393331333536362c7b7d2c5b747275652c66616c7365\
         2c6e756c6c2c312e352c2d302e32352c332e3134313539323635333538393739332c22222c2268c3\
         a96c6c6f20e2988320f09f9880222c225c7530303030414145432f773d3d222c225c753030303022\
         2c5b5d2c7b7d2c5b5b315d2c7b2261223a6e756c6c7d5d5d2c7b2262696e223a225c753030303045\
         4f502f6b464d4858464a7658384274542b4e3832773d3d227d5d",
    msgpack: "9624cf00000001488f41dbcf000000010801f61e809dc3c2c0cb3ff8000000000000cbbfd0000000\
         000000cb400921fb54442d18a0af68c3a96c6c6f20e2988320f09f9880c404000102ffc400908092\
         910181a161c081a362696ec41010e3ff9053075c526f5fc06d4fe37cdb",
    cbor: "8618241b00000001488f41db1b000000010801f61ea08df5f4f6fb3ff8000000000000fbbfd00000\
         00000000fb400921fb54442d18606f68c3a96c6c6f20e2988320f09f988044000102ff4080a08281\
         01a16161f6a16362696e5010e3ff9053075c526f5fc06d4fe37cdb",
};

/// `[70,2,{},["xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy","\u0000q...`
const YIELD_LONG: Vector = Vector {
    json: "5b37302c322c7b7d2c5b227878787878787878787878787878787878787878787878787878787878\
         7878222c227979797979797979797979797979797979797979797979797979797979797979222c22\
         5c753030303071367572713675727136757271367572713675727136757271367572713675727136\
         75727136757271367572713675727136757271773d3d225d5d",
    msgpack: "9446028093bf78787878787878787878787878787878787878787878787878787878787878d92079\
         79797979797979797979797979797979797979797979797979797979797979c428ababababababab\
         ababababababababababababababababababababababababababababababababab",
    cbor: "84184602a083781f7878787878787878787878787878787878787878787878787878787878787878\
         2079797979797979797979797979797979797979797979797979797979797979795828ababababab\
         ababababababababababababababababababababababababababababababababababab",
};

/// `[50,7814135,{},[],{}]`
const RESULT_EXPLICIT_EMPTY: Vector = Vector {
    json: "5b35302c373831343133352c7b7d2c5b5d2c7b7d5d",
    msgpack: "9532ce00773bf7809080",
    cbor: "8518321a00773bf7a080a0",
};

/// `[8,16,5,{},"wamp.error.invalid_uri",[]]`
const ERROR_EXPLICIT_EMPTY_ARGS: Vector = Vector {
    json: "5b382c31362c352c7b7d2c2277616d702e6572726f722e696e76616c69645f757269222c5b5d5d",
    msgpack: "9608100580b677616d702e6572726f722e696e76616c69645f75726990",
    cbor: "86081005a07677616d702e6572726f722e696e76616c69645f75726980",
};

/// `[50,7814135,{}]`
const RESULT_NO_PAYLOAD: Vector = Vector {
    json: "5b35302c373831343133352c7b7d5d",
    msgpack: "9332ce00773bf780",
    cbor: "8318321a00773bf7a0",
};

/// `[8,16,5,{},"wamp.error.invalid_uri"]`
const ERROR_NO_PAYLOAD: Vector = Vector {
    json: "5b382c31362c352c7b7d2c2277616d702e6572726f722e696e76616c69645f757269225d",
    msgpack: "9508100580b677616d702e6572726f722e696e76616c69645f757269",
    cbor: "85081005a07677616d702e6572726f722e696e76616c69645f757269",
};

// ---------------------------------------------------------------------------
// One test per message type
// ---------------------------------------------------------------------------

#[test]
fn hello_vector_decodes_and_reencodes_identically() {
    let features = dict([("call_canceling", Value::Bool(true))]);
    let caller = dict([("features", Value::Dict(features))]);
    let roles = dict([("caller", Value::Dict(caller))]);
    check(
        &HELLO,
        Message::Hello {
            realm: "realm1".into(),
            details: dict([("roles", Value::Dict(roles))]),
        },
    );
}

#[test]
fn welcome_vector_with_the_largest_id_decodes_and_reencodes_identically() {
    check(
        &WELCOME,
        Message::Welcome {
            session: 1 << 53,
            details: dict([("authid", s("joe"))]),
        },
    );
}

#[test]
fn abort_vector_with_three_elements_decodes_and_reencodes_identically() {
    check(
        &ABORT_3,
        Message::Abort {
            details: dict([("message", s("no such realm"))]),
            reason: "wamp.error.no_such_realm".into(),
            payload: Payload::default(),
        },
    );
}

#[test]
fn abort_vector_with_arguments_decodes_and_reencodes_identically() {
    check(
        &ABORT_4,
        Message::Abort {
            details: Dict::new(),
            reason: "wamp.error.not_authorized".into(),
            payload: payload(vec![s("denied"), Value::Int(7)], Dict::new()),
        },
    );
}

#[test]
fn abort_vector_with_keyword_arguments_decodes_and_reencodes_identically() {
    check(
        &ABORT_5,
        Message::Abort {
            details: Dict::new(),
            reason: "wamp.error.not_authorized".into(),
            payload: payload(vec![], dict([("code", Value::Int(42))])),
        },
    );
}

#[test]
fn challenge_vector_decodes_and_reencodes_identically() {
    check(
        &CHALLENGE,
        Message::Challenge {
            method: "wampcra".into(),
            extra: dict([("challenge", s(r#"{"nonce": "LHRTC9zeOIrt_9U3"}"#))]),
        },
    );
}

#[test]
fn authenticate_vector_decodes_and_reencodes_identically() {
    check(
        &AUTHENTICATE,
        Message::Authenticate {
            signature: "s3cret-ticket".into(),
            extra: Dict::new(),
        },
    );
}

#[test]
fn goodbye_vector_decodes_and_reencodes_identically() {
    check(
        &GOODBYE,
        Message::Goodbye {
            details: dict([("message", s("The host is shutting down now."))]),
            reason: "wamp.close.system_shutdown".into(),
        },
    );
}

#[test]
fn error_vector_with_five_elements_decodes_and_reencodes_identically() {
    check(
        &ERROR_5,
        Message::Error {
            request_type: code::SUBSCRIBE,
            request: 713845233,
            details: Dict::new(),
            error: "wamp.error.not_authorized".into(),
            payload: Payload::default(),
        },
    );
}

#[test]
fn error_vector_with_six_elements_decodes_and_reencodes_identically() {
    check(
        &ERROR_6,
        Message::Error {
            request_type: code::REGISTER,
            request: 25349185,
            details: Dict::new(),
            error: "wamp.error.procedure_already_exists".into(),
            payload: payload(vec![s("already registered")], Dict::new()),
        },
    );
}

#[test]
fn error_vector_with_seven_elements_decodes_and_reencodes_identically() {
    check(
        &ERROR_7,
        Message::Error {
            request_type: code::CALL,
            request: 7814135,
            details: Dict::new(),
            error: "com.myapp.error.object_write_protected".into(),
            payload: payload(
                vec![s("Object is write protected.")],
                dict([("severity", Value::Int(3))]),
            ),
        },
    );
}

#[test]
fn publish_vector_decodes_and_reencodes_identically() {
    check(
        &PUBLISH,
        Message::Publish {
            request: 239714735,
            options: Dict::new(),
            topic: "com.myapp.mytopic1".into(),
            payload: payload(vec![], dict([("color", s("orange"))])),
        },
    );
}

#[test]
fn published_vector_decodes_and_reencodes_identically() {
    check(
        &PUBLISHED,
        Message::Published {
            request: 239714735,
            publication: 4429313566,
        },
    );
}

#[test]
fn subscribe_vector_decodes_and_reencodes_identically() {
    check(
        &SUBSCRIBE,
        Message::Subscribe {
            request: 713845233,
            options: dict([("match", s("prefix"))]),
            topic: "com.myapp.".into(),
        },
    );
}

#[test]
fn subscribed_vector_decodes_and_reencodes_identically() {
    check(
        &SUBSCRIBED,
        Message::Subscribed {
            request: 713845233,
            subscription: 5512315355,
        },
    );
}

#[test]
fn unsubscribe_vector_decodes_and_reencodes_identically() {
    check(
        &UNSUBSCRIBE,
        Message::Unsubscribe {
            request: 85346237,
            subscription: 5512315355,
        },
    );
}

#[test]
fn unsubscribed_vector_decodes_and_reencodes_identically() {
    check(&UNSUBSCRIBED, Message::Unsubscribed { request: 85346237 });
}

#[test]
fn subscription_revocation_vector_decodes_and_reencodes_identically() {
    check(
        &SUBSCRIPTION_REVOKED,
        Message::SubscriptionRevoked {
            details: dict([("reason", s("x")), ("subscription", Value::Int(5512315355))]),
        },
    );
}

#[test]
fn event_vector_decodes_and_reencodes_identically() {
    check(
        &EVENT,
        Message::Event {
            subscription: 5512315355,
            publication: 4429313566,
            details: Dict::new(),
            payload: payload(vec![s("Hello, world!")], Dict::new()),
        },
    );
}

#[test]
fn call_vector_decodes_and_reencodes_identically() {
    check(
        &CALL,
        Message::Call {
            request: 7814135,
            options: dict([("timeout", Value::Int(1000))]),
            procedure: "com.myapp.add".into(),
            payload: payload(vec![Value::Int(23), Value::Int(7)], Dict::new()),
        },
    );
}

#[test]
fn cancel_vector_decodes_and_reencodes_identically() {
    check(
        &CANCEL,
        Message::Cancel {
            request: 7814135,
            options: dict([("mode", s("killnowait"))]),
        },
    );
}

#[test]
fn result_vector_decodes_and_reencodes_identically() {
    check(
        &RESULT,
        Message::Result {
            request: 7814135,
            details: Dict::new(),
            payload: payload(vec![Value::Int(30)], Dict::new()),
        },
    );
}

#[test]
fn register_vector_decodes_and_reencodes_identically() {
    check(
        &REGISTER,
        Message::Register {
            request: 25349185,
            options: dict([("match", s("wildcard"))]),
            procedure: "com.myapp..add".into(),
        },
    );
}

#[test]
fn registered_vector_decodes_and_reencodes_identically() {
    check(
        &REGISTERED,
        Message::Registered {
            request: 25349185,
            registration: 2103333224,
        },
    );
}

#[test]
fn unregister_vector_decodes_and_reencodes_identically() {
    check(
        &UNREGISTER,
        Message::Unregister {
            request: 788923562,
            registration: 2103333224,
        },
    );
}

#[test]
fn unregistered_vector_decodes_and_reencodes_identically() {
    check(&UNREGISTERED, Message::Unregistered { request: 788923562 });
}

#[test]
fn registration_revocation_vector_decodes_and_reencodes_identically() {
    check(
        &REGISTRATION_REVOKED,
        Message::RegistrationRevoked {
            details: dict([("registration", Value::Int(2103333224))]),
        },
    );
}

#[test]
fn invocation_vector_decodes_and_reencodes_identically() {
    check(
        &INVOCATION,
        Message::Invocation {
            request: 6131533,
            registration: 9823526,
            details: Dict::new(),
            payload: payload(vec![s("johnny")], dict([("firstname", s("John"))])),
        },
    );
}

#[test]
fn interrupt_vector_decodes_and_reencodes_identically() {
    check(
        &INTERRUPT,
        Message::Interrupt {
            request: 6131533,
            options: dict([("mode", s("kill"))]),
        },
    );
}

#[test]
fn yield_vector_decodes_and_reencodes_identically() {
    check(
        &YIELD,
        Message::Yield {
            request: 6131533,
            options: Dict::new(),
            payload: payload(vec![], dict([("userid", Value::Int(123))])),
        },
    );
}

// ---------------------------------------------------------------------------
// Payload value coverage
// ---------------------------------------------------------------------------

#[test]
fn integers_of_every_width_and_sign_decode_and_reencode_identically() {
    let ints: Vec<Value> = vec![
        Value::Int(0),
        Value::Int(1),
        Value::Int(23),
        Value::Int(24),
        Value::Int(127),
        Value::Int(128),
        Value::Int(255),
        Value::Int(256),
        Value::Int(65535),
        Value::Int(65536),
        Value::Int(4294967295),
        Value::Int(4294967296),
        Value::Int(9007199254740992),
        Value::Int(i64::MAX),
        Value::UInt(u64::MAX),
        Value::Int(-1),
        Value::Int(-24),
        Value::Int(-25),
        Value::Int(-32),
        Value::Int(-33),
        Value::Int(-128),
        Value::Int(-129),
        Value::Int(-32768),
        Value::Int(-32769),
        Value::Int(-2147483648),
        Value::Int(-2147483649),
        Value::Int(i64::MIN),
    ];
    check(
        &CALL_INTEGERS,
        Message::Call {
            request: 1,
            options: Dict::new(),
            procedure: "com.example.echo".into(),
            payload: payload(ints, Dict::new()),
        },
    );
}

fn event_mixed_message() -> Message {
    let args = vec![
        Value::Bool(true),
        Value::Bool(false),
        Value::Null,
        Value::Float(1.5),
        Value::Float(-0.25),
        Value::Float(std::f64::consts::PI),
        s(""),
        s("h\u{e9}llo \u{2603} \u{1F600}"),
        Value::bytes([0x00, 0x01, 0x02, 0xff]),
        Value::bytes([]),
        list(vec![]),
        Value::Dict(Dict::new()),
        list(vec![
            list(vec![Value::Int(1)]),
            Value::Dict(dict([("a", Value::Null)])),
        ]),
    ];
    let bin = unhex("10e3ff9053075c526f5fc06d4fe37cdb");
    Message::Event {
        subscription: 5512315355,
        publication: 4429313566,
        details: Dict::new(),
        payload: payload(args, dict([("bin", Value::Bytes(bin))])),
    }
}

#[test]
fn mixed_payload_with_floats_unicode_and_bytes_decodes_in_json_and_msgpack_identically() {
    let expected = event_mixed_message();
    for serializer in compiled_in([Serializer::Json, Serializer::MsgPack]) {
        check_with(&EVENT_MIXED, serializer, &expected, Reencode::Same);
    }
}

/// autobahn's cbor2 writes every float as a float64 (`fb`); ciborium writes the shortest
/// float that keeps the value (RFC 8949 "preferred serialization"), so 1.5 and -0.25
/// become half floats. Both decode to the same values.
#[cfg(feature = "cbor")]
#[test]
fn mixed_payload_in_cbor_reencodes_floats_in_their_shortest_exact_form() {
    let expected = event_mixed_message();
    check_with(&EVENT_MIXED, Serializer::Cbor, &expected, Reencode::Differs);
    let ours = hex(&Serializer::Cbor.encode(expected).unwrap());
    let theirs = hex(&EVENT_MIXED.bytes(Serializer::Cbor));
    assert!(theirs.contains("fb3ff8000000000000fbbfd0000000000000fb400921fb54442d18"));
    // 1.5 -> f9 3e00, -0.25 -> f9 b400, pi stays a float64.
    assert!(ours.contains("f93e00f9b400fb400921fb54442d18"), "{ours}");
    assert_eq!(
        ours.replace("f93e00f9b400", "fb3ff8000000000000fbbfd0000000000000"),
        theirs,
        "only the two float encodings may differ"
    );
}

#[test]
fn str8_and_bin8_lengths_decode_and_reencode_identically() {
    check(
        &YIELD_LONG,
        Message::Yield {
            request: 2,
            options: Dict::new(),
            payload: payload(
                vec![
                    s(&"x".repeat(31)),
                    s(&"y".repeat(32)),
                    Value::bytes([0xab; 40]),
                ],
                Dict::new(),
            ),
        },
    );
}

#[test]
fn explicit_empty_arguments_and_keywords_decode_as_empty_and_are_dropped_on_encode() {
    let expected = Message::Result {
        request: 7814135,
        details: Dict::new(),
        payload: Payload::default(),
    };
    for serializer in serializers() {
        check_with(
            &RESULT_EXPLICIT_EMPTY,
            serializer,
            &expected,
            Reencode::As(&RESULT_NO_PAYLOAD),
        );
        check_with(&RESULT_NO_PAYLOAD, serializer, &expected, Reencode::Same);
    }
}

#[test]
fn explicit_empty_error_arguments_decode_as_empty_and_are_dropped_on_encode() {
    let expected = Message::Error {
        request_type: code::PUBLISH,
        request: 5,
        details: Dict::new(),
        error: "wamp.error.invalid_uri".into(),
        payload: Payload::default(),
    };
    for serializer in serializers() {
        check_with(
            &ERROR_EXPLICIT_EMPTY_ARGS,
            serializer,
            &expected,
            Reencode::As(&ERROR_NO_PAYLOAD),
        );
        check_with(&ERROR_NO_PAYLOAD, serializer, &expected, Reencode::Same);
    }
}

// ---------------------------------------------------------------------------
// Binary payloads
// ---------------------------------------------------------------------------

fn call_with_args(args: Vec<Value>) -> Message {
    Message::Call {
        request: 1,
        options: Dict::new(),
        procedure: "p".into(),
        payload: payload(args, Dict::new()),
    }
}

fn json_text(message: Message) -> String {
    String::from_utf8(Serializer::Json.encode(message).unwrap()).unwrap()
}

#[test]
fn json_encodes_bytes_as_nul_prefixed_base64() {
    let bytes = unhex("10e3ff9053075c526f5fc06d4fe37cdb");
    assert_eq!(
        json_text(call_with_args(vec![Value::Bytes(bytes)])),
        r#"[48,1,{},"p",["\u0000EOP/kFMHXFJvX8BtT+N82w=="]]"#
    );
    assert_eq!(
        json_text(call_with_args(vec![Value::bytes([0xef, 0xbb, 0xbf, 0x00])])),
        r#"[48,1,{},"p",["\u000077u/AA=="]]"#
    );
    assert_eq!(
        json_text(call_with_args(vec![Value::bytes([])])),
        r#"[48,1,{},"p",["\u0000"]]"#
    );
}

#[test]
fn json_decodes_nul_prefixed_base64_to_bytes() {
    let frame = r#"[48,1,{},"p",["\u0000EOP/kFMHXFJvX8BtT+N82w==","\u000077u/AA==","\u0000"]]"#;
    assert_eq!(
        Serializer::Json.decode(frame.as_bytes()),
        Ok(call_with_args(vec![
            Value::Bytes(unhex("10e3ff9053075c526f5fc06d4fe37cdb")),
            Value::bytes([0xef, 0xbb, 0xbf, 0x00]),
            Value::bytes([]),
        ]))
    );
}

#[test]
fn json_decodes_nul_prefixed_base64_inside_nested_lists_and_dicts() {
    let frame = r#"[50,7,{},[[{"k":"\u0000AQI="}]],{"outer":{"inner":["\u0000/w=="]}}]"#;
    let expected = Message::Result {
        request: 7,
        details: Dict::new(),
        payload: payload(
            vec![list(vec![Value::Dict(dict([("k", Value::bytes([1, 2]))]))])],
            dict([(
                "outer",
                Value::Dict(dict([("inner", list(vec![Value::bytes([0xff])]))])),
            )]),
        ),
    };
    assert_eq!(Serializer::Json.decode(frame.as_bytes()), Ok(expected));
}

#[test]
fn json_string_that_looks_like_base64_without_nul_stays_text() {
    let frame = r#"[48,1,{},"p",["AQI=","EOP/kFMHXFJvX8BtT+N82w=="]]"#;
    assert_eq!(
        Serializer::Json.decode(frame.as_bytes()),
        Ok(call_with_args(vec![
            s("AQI="),
            s("EOP/kFMHXFJvX8BtT+N82w==")
        ]))
    );
}

#[test]
fn json_rejects_nul_prefixed_string_that_is_not_base64() {
    let frame = r#"[48,1,{},"p",["\u0000!!notbase64"]]"#;
    let err = Serializer::Json.decode(frame.as_bytes()).unwrap_err();
    assert!(
        matches!(&err, CodecError::Undecodable { serializer: Serializer::Json, detail, offset: Some(_), .. }
            if detail.contains("not valid base64")),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("undecodable json frame at byte "),
        "{err}"
    );
}

/// WAMP's JSON rule makes a text value that starts with NUL indistinguishable from
/// bytes: the encoder writes it unchanged and the decoder reads it as base64.
#[test]
fn json_text_starting_with_nul_is_read_back_as_bytes_or_refused() {
    let looks_like_base64 = call_with_args(vec![s("\u{0}AQI=")]);
    let frame = Serializer::Json.encode(looks_like_base64).unwrap();
    assert_eq!(
        Serializer::Json.decode(&frame),
        Ok(call_with_args(vec![Value::bytes([1, 2])]))
    );
    let not_base64 = call_with_args(vec![s("\u{0}hello")]);
    let frame = Serializer::Json.encode(not_base64).unwrap();
    assert!(matches!(
        Serializer::Json.decode(&frame),
        Err(CodecError::Undecodable { .. })
    ));
}

#[cfg(feature = "msgpack")]
#[test]
fn msgpack_bin_decodes_to_bytes_and_str_to_text() {
    // [48, 1, {}, "p", [bin 01 02, str "ab", bin "ab"]]
    let frame = unhex("95 30 01 80 a1 70 93 c4 02 01 02 a2 61 62 c4 02 61 62");
    let expected = call_with_args(vec![Value::bytes([1, 2]), s("ab"), Value::bytes(*b"ab")]);
    assert_eq!(Serializer::MsgPack.decode(&frame), Ok(expected.clone()));
    assert_eq!(
        hex(&Serializer::MsgPack.encode(expected).unwrap()),
        hex(&frame)
    );
}

#[cfg(feature = "msgpack")]
#[test]
fn msgpack_bin_and_str_with_the_same_content_are_different_values() {
    let as_str = Serializer::MsgPack
        .decode(&unhex("95 30 01 80 a1 70 91 a2 61 62"))
        .unwrap();
    let as_bin = Serializer::MsgPack
        .decode(&unhex("95 30 01 80 a1 70 91 c4 02 61 62"))
        .unwrap();
    assert_eq!(as_str, call_with_args(vec![s("ab")]));
    assert_eq!(as_bin, call_with_args(vec![Value::bytes(*b"ab")]));
    assert_ne!(as_str, as_bin);
}

#[cfg(feature = "msgpack")]
#[test]
fn msgpack_str_with_invalid_utf8_is_rejected_not_turned_into_bytes() {
    // [48, 1, {}, "p", [str ff fe]]: a str must be UTF-8; autobahn (raw=False) rejects it.
    let frame = unhex("95 30 01 80 a1 70 91 a2 ff fe");
    let result = Serializer::MsgPack.decode(&frame);
    assert!(
        matches!(result, Err(CodecError::Undecodable { .. })),
        "{result:?}"
    );
}

#[cfg(feature = "cbor")]
#[test]
fn cbor_byte_string_decodes_to_bytes_and_text_string_to_text() {
    // [48, 1, {}, "p", [h'0102', "ab", h'6162']]
    let frame = unhex("85 18 30 01 a0 61 70 83 42 01 02 62 61 62 42 61 62");
    let expected = call_with_args(vec![Value::bytes([1, 2]), s("ab"), Value::bytes(*b"ab")]);
    assert_eq!(Serializer::Cbor.decode(&frame), Ok(expected.clone()));
    assert_eq!(
        hex(&Serializer::Cbor.encode(expected).unwrap()),
        hex(&frame)
    );
}

#[cfg(feature = "cbor")]
#[test]
fn cbor_text_with_invalid_utf8_is_rejected() {
    let frame = unhex("85 18 30 01 a0 61 70 81 62 ff fe");
    let result = Serializer::Cbor.decode(&frame);
    assert!(
        matches!(
            result,
            Err(CodecError::Undecodable {
                serializer: Serializer::Cbor,
                ..
            })
        ),
        "{result:?}"
    );
}

#[test]
fn long_text_and_bytes_use_16_bit_length_headers() {
    let message = call_with_args(vec![s(&"z".repeat(256)), Value::bytes(vec![0xcd; 256])]);
    #[cfg(feature = "msgpack")]
    {
        let msgpack = hex(&Serializer::MsgPack.encode(message.clone()).unwrap());
        // str16 = da 0100, bin16 = c5 0100 (MessagePack spec).
        assert!(msgpack.contains(&format!("da0100{}", "7a".repeat(256))));
        assert!(msgpack.contains(&format!("c50100{}", "cd".repeat(256))));
    }
    #[cfg(feature = "cbor")]
    {
        let cbor = hex(&Serializer::Cbor.encode(message.clone()).unwrap());
        // text with 2-byte length = 79 0100, bytes = 59 0100 (RFC 8949).
        assert!(cbor.contains(&format!("790100{}", "7a".repeat(256))));
        assert!(cbor.contains(&format!("590100{}", "cd".repeat(256))));
    }
    for serializer in serializers() {
        let encoded = serializer.encode(message.clone()).unwrap();
        assert_eq!(
            serializer.decode(&encoded),
            Ok(message.clone()),
            "{serializer}"
        );
    }
}

#[test]
fn bytes_decoded_from_json_reencode_as_native_binary_in_msgpack_and_cbor() {
    let frame = r#"[48,1,{},"p",["\u0000AAEC/w=="]]"#;
    let message = Serializer::Json.decode(frame.as_bytes()).unwrap();
    let expected = [
        (Serializer::MsgPack, "95300180a17091c404000102ff"),
        (Serializer::Cbor, "85183001a061708144000102ff"),
    ];
    for (serializer, bytes) in expected.into_iter().filter(|(s, _)| s.is_compiled_in()) {
        assert_eq!(
            hex(&serializer.encode(message.clone()).unwrap()),
            bytes,
            "{serializer}"
        );
    }
}

// ---------------------------------------------------------------------------
// Payload element rules
// ---------------------------------------------------------------------------

/// Decodes a frame into its raw list without any WAMP checks.
fn raw_list(serializer: Serializer, bytes: &[u8]) -> Vec<Value> {
    let value: Value = match serializer {
        Serializer::Json => serde_json::from_slice(bytes).unwrap(),
        #[cfg(feature = "msgpack")]
        Serializer::MsgPack => rmp_serde::from_slice(bytes).unwrap(),
        #[cfg(feature = "cbor")]
        Serializer::Cbor => ciborium::from_reader(bytes).unwrap(),
        #[allow(unreachable_patterns)] // every serializer is compiled in
        other => panic!("{other} is not compiled in"),
    };
    match value {
        Value::List(items) => items,
        other => panic!("not a list: {other}"),
    }
}

/// Encodes any value, bypassing the WAMP message layer, to build invalid frames.
fn raw_encode(serializer: Serializer, value: &Value) -> Vec<u8> {
    match serializer {
        Serializer::Json => serde_json::to_vec(value).unwrap(),
        #[cfg(feature = "msgpack")]
        Serializer::MsgPack => rmp_serde::to_vec(value).unwrap(),
        #[cfg(feature = "cbor")]
        Serializer::Cbor => {
            let mut out = Vec::new();
            ciborium::into_writer(value, &mut out).unwrap();
            out
        }
        #[allow(unreachable_patterns)] // every serializer is compiled in
        other => panic!("{other} is not compiled in"),
    }
}

type Builder = fn(Payload) -> Message;

/// Every message type with a payload, and its element count without one.
fn payload_messages() -> Vec<(&'static str, Builder, usize)> {
    vec![
        (
            "ABORT",
            |payload| Message::Abort {
                details: Dict::new(),
                reason: "wamp.error.x".into(),
                payload,
            },
            3,
        ),
        (
            "ERROR",
            |payload| Message::Error {
                request_type: code::CALL,
                request: 1,
                details: Dict::new(),
                error: "wamp.error.x".into(),
                payload,
            },
            5,
        ),
        (
            "PUBLISH",
            |payload| Message::Publish {
                request: 1,
                options: Dict::new(),
                topic: "t".into(),
                payload,
            },
            4,
        ),
        (
            "EVENT",
            |payload| Message::Event {
                subscription: 1,
                publication: 2,
                details: Dict::new(),
                payload,
            },
            4,
        ),
        (
            "CALL",
            |payload| Message::Call {
                request: 1,
                options: Dict::new(),
                procedure: "p".into(),
                payload,
            },
            4,
        ),
        (
            "RESULT",
            |payload| Message::Result {
                request: 1,
                details: Dict::new(),
                payload,
            },
            3,
        ),
        (
            "INVOCATION",
            |payload| Message::Invocation {
                request: 1,
                registration: 2,
                details: Dict::new(),
                payload,
            },
            4,
        ),
        (
            "YIELD",
            |payload| Message::Yield {
                request: 1,
                options: Dict::new(),
                payload,
            },
            3,
        ),
    ]
}

#[test]
fn empty_payload_adds_no_elements_for_any_message_or_serializer() {
    for (name, build, base) in payload_messages() {
        for serializer in serializers() {
            let bytes = serializer.encode(build(Payload::default())).unwrap();
            assert_eq!(
                raw_list(serializer, &bytes).len(),
                base,
                "{name} {serializer}"
            );
        }
    }
}

#[test]
fn args_only_payload_adds_one_list_element() {
    for (name, build, base) in payload_messages() {
        for serializer in serializers() {
            let bytes = serializer
                .encode(build(payload(vec![Value::Int(1)], Dict::new())))
                .unwrap();
            let items = raw_list(serializer, &bytes);
            assert_eq!(items.len(), base + 1, "{name} {serializer}");
            assert_eq!(
                items[base],
                list(vec![Value::Int(1)]),
                "{name} {serializer}"
            );
        }
    }
}

#[test]
fn kwargs_only_payload_keeps_an_empty_args_list() {
    for (name, build, base) in payload_messages() {
        for serializer in serializers() {
            let message = build(payload(vec![], dict([("k", Value::Int(1))])));
            let bytes = serializer.encode(message.clone()).unwrap();
            let items = raw_list(serializer, &bytes);
            assert_eq!(items.len(), base + 2, "{name} {serializer}");
            assert_eq!(items[base], list(vec![]), "{name} {serializer}");
            assert_eq!(
                items[base + 1],
                Value::Dict(dict([("k", Value::Int(1))])),
                "{name} {serializer}"
            );
            assert_eq!(
                serializer.decode(&bytes),
                Ok(message),
                "{name} {serializer}"
            );
        }
    }
    assert_eq!(
        json_text(Message::Call {
            request: 1,
            options: Dict::new(),
            procedure: "p".into(),
            payload: payload(vec![], dict([("k", Value::Int(1))])),
        }),
        r#"[48,1,{},"p",[],{"k":1}]"#
    );
}

#[test]
fn explicit_empty_args_and_kwargs_are_accepted_for_every_payload_message() {
    for (name, build, base) in payload_messages() {
        let expected = build(Payload::default());
        let Value::List(mut items) = expected.clone().into_value() else {
            panic!("{name} is not a list");
        };
        assert_eq!(items.len(), base);
        items.push(list(vec![]));
        for serializer in serializers() {
            let bytes = raw_encode(serializer, &Value::List(items.clone()));
            assert_eq!(
                serializer.decode(&bytes),
                Ok(expected.clone()),
                "{name} {serializer} []"
            );
        }
        items.push(Value::Dict(Dict::new()));
        for serializer in serializers() {
            let bytes = raw_encode(serializer, &Value::List(items.clone()));
            assert_eq!(
                serializer.decode(&bytes),
                Ok(expected.clone()),
                "{name} {serializer} [] {{}}"
            );
        }
    }
}

#[test]
fn args_with_explicit_empty_kwargs_decode_to_args_only() {
    let frame = r#"[36,1,2,{},["x"],{}]"#;
    let expected = Message::Event {
        subscription: 1,
        publication: 2,
        details: Dict::new(),
        payload: payload(vec![s("x")], Dict::new()),
    };
    let decoded = Serializer::Json.decode(frame.as_bytes()).unwrap();
    assert_eq!(decoded, expected);
    assert_eq!(json_text(decoded), r#"[36,1,2,{},["x"]]"#);
}

// ---------------------------------------------------------------------------
// Rejections
// ---------------------------------------------------------------------------

/// Builds a raw list value from JSON text (only for the value; never decoded as WAMP here).
fn raw(json: &str) -> Value {
    serde_json::from_str(json).unwrap_or_else(|e| panic!("bad test JSON {json}: {e}"))
}

/// Encodes `value` with every serializer and checks each decode is a `Malformed` error
/// whose text contains `needle`.
fn assert_malformed(value: &Value, needle: &str) {
    for serializer in serializers() {
        let bytes = raw_encode(serializer, value);
        match serializer.decode(&bytes) {
            Err(CodecError::Malformed(MessageError(text))) => assert!(
                text.contains(needle),
                "{serializer}: {value}: error {text:?} does not contain {needle:?}"
            ),
            other => panic!("{serializer}: {value}: expected Malformed, got {other:?}"),
        }
    }
    // The direct parser says the same.
    let err = Message::from_value(value.clone()).unwrap_err();
    assert!(err.0.contains(needle), "{value}: {err}");
}

fn assert_undecodable(serializer: Serializer, bytes: &[u8], needle: &str) {
    match serializer.decode(bytes) {
        Err(CodecError::Undecodable {
            serializer: named,
            offset,
            detail,
            ..
        }) => {
            assert_eq!(named, serializer);
            // Every decoder but JSON's base64 pass knows where it stopped.
            let offset = offset.unwrap_or_else(|| {
                assert!(
                    detail.contains("base64"),
                    "{serializer}: no offset for {detail:?}"
                );
                0
            });
            assert!(
                offset <= bytes.len(),
                "{serializer}: offset {offset} past the end"
            );
            assert!(
                detail.contains(needle),
                "{serializer}: {}: detail {detail:?} does not contain {needle:?}",
                hex(bytes)
            );
        }
        other => panic!(
            "{serializer}: {}: expected Undecodable, got {other:?}",
            hex(bytes)
        ),
    }
}

#[test]
fn empty_list_is_rejected() {
    assert_malformed(&raw("[]"), "a message must not be an empty list");
}

#[test]
fn non_list_messages_are_rejected_naming_the_found_type() {
    assert_malformed(&raw("{}"), "a message must be a list, found dict");
    assert_malformed(
        &raw(r#"{"1":"realm1"}"#),
        "a message must be a list, found dict",
    );
    assert_malformed(&raw(r#""hello""#), "a message must be a list, found string");
    assert_malformed(&raw("5"), "a message must be a list, found integer");
    assert_malformed(&raw("null"), "a message must be a list, found null");
}

#[test]
fn unknown_type_codes_are_rejected() {
    assert_malformed(&raw(r#"[7, {}, "x"]"#), "unknown message type 7");
    assert_malformed(&raw(r#"[1000, 1, {}]"#), "unknown message type 1000");
    assert_malformed(&raw("[0]"), "unknown message type 0");
    assert_malformed(&raw("[337, 1, {}]"), "unknown message type 337");
}

#[test]
fn non_integer_type_codes_are_rejected() {
    assert_malformed(
        &raw(r#"["1", "realm1", {}]"#),
        "message type must be an integer, found string",
    );
    assert_malformed(
        &raw(r#"[1.5, "realm1", {}]"#),
        "message type must be an integer, found float",
    );
    assert_malformed(
        &raw(r#"[null]"#),
        "message type must be an integer, found null",
    );
}

#[test]
fn negative_type_code_is_rejected() {
    let value = raw(r#"[-1, "realm1", {}]"#);
    for serializer in serializers() {
        let result = serializer.decode(&raw_encode(serializer, &value));
        assert!(
            matches!(result, Err(CodecError::Malformed(_))),
            "{result:?}"
        );
    }
}

#[test]
fn wrong_element_counts_are_rejected_naming_the_message_and_counts() {
    let cases = [
        (r#"[1, "realm1"]"#, "HELLO must have 3 elements, found 2"),
        (
            r#"[1, "realm1", {}, {}]"#,
            "HELLO must have 3 elements, found 4",
        ),
        (r#"[2, 1]"#, "WELCOME must have 3 elements, found 2"),
        (
            r#"[3, {}]"#,
            "ABORT must have 3 or 4 or 5 elements, found 2",
        ),
        (
            r#"[3, {}, "r", [], {}, 1]"#,
            "ABORT must have 3 or 4 or 5 elements, found 6",
        ),
        (
            r#"[4, "ticket"]"#,
            "CHALLENGE must have 3 elements, found 2",
        ),
        (r#"[6, {}]"#, "GOODBYE must have 3 elements, found 2"),
        (
            r#"[8, 48, 1, {}]"#,
            "ERROR must have 5 or 6 or 7 elements, found 4",
        ),
        (
            r#"[8, 48, 1, {}, "e", [], {}, 1]"#,
            "ERROR must have 5 or 6 or 7 elements, found 8",
        ),
        (
            r#"[16, 1, {}]"#,
            "PUBLISH must have 4 or 5 or 6 elements, found 3",
        ),
        (r#"[17, 1]"#, "PUBLISHED must have 3 elements, found 2"),
        (
            r#"[32, 1, {}, "t", []]"#,
            "SUBSCRIBE must have 4 elements, found 5",
        ),
        (
            r#"[33, 1, 2, 3]"#,
            "SUBSCRIBED must have 3 elements, found 4",
        ),
        (r#"[35]"#, "UNSUBSCRIBED must have 2 or 3 elements, found 1"),
        (
            r#"[35, 1, {}, 1]"#,
            "UNSUBSCRIBED must have 2 or 3 elements, found 4",
        ),
        (
            r#"[36, 1, 2]"#,
            "EVENT must have 4 or 5 or 6 elements, found 3",
        ),
        (
            r#"[48, 1, {}]"#,
            "CALL must have 4 or 5 or 6 elements, found 3",
        ),
        (
            r#"[48, 1, {}, "p", [], {}, 1]"#,
            "CALL must have 4 or 5 or 6 elements, found 7",
        ),
        (
            r#"[50, 1]"#,
            "RESULT must have 3 or 4 or 5 elements, found 2",
        ),
        (r#"[65, 1]"#, "REGISTERED must have 3 elements, found 2"),
        (
            r#"[67, 1, {}, 2]"#,
            "UNREGISTERED must have 2 or 3 elements, found 4",
        ),
        (
            r#"[68, 1, 2, {}, [], {}, 1]"#,
            "INVOCATION must have 4 or 5 or 6 elements, found 7",
        ),
        (r#"[69, 1]"#, "INTERRUPT must have 3 elements, found 2"),
        (
            r#"[70, 1]"#,
            "YIELD must have 3 or 4 or 5 elements, found 2",
        ),
    ];
    for (json, needle) in cases {
        assert_malformed(&raw(json), needle);
    }
}

/// Element numbers in the messages count from 1, the type code being element 1.
#[test]
fn wrong_element_types_are_rejected_naming_the_element() {
    let cases = [
        (
            r#"[2, "1", {}]"#,
            "WELCOME element 2 (session) must be an integer, found string",
        ),
        (
            r#"[2, 1, []]"#,
            "WELCOME element 3 (details) must be a dict, found list",
        ),
        (
            r#"[1, 5, {}]"#,
            "HELLO element 2 (realm uri) must be a string, found integer",
        ),
        (
            r#"[3, {}, 5]"#,
            "ABORT element 3 (reason uri) must be a string, found integer",
        ),
        (
            r#"[6, [], "wamp.close.normal"]"#,
            "GOODBYE element 2 (details) must be a dict, found list",
        ),
        (
            r#"[33, 1, true]"#,
            "SUBSCRIBED element 3 (subscription) must be an integer, found bool",
        ),
        (
            r#"[48, 1, {}, "p", {}]"#,
            "CALL element 5 (arguments) must be a list, found dict",
        ),
        (
            r#"[48, 1, {}, "p", [], []]"#,
            "CALL element 6 (keyword arguments) must be a dict, found list",
        ),
        (
            r#"[48, 1, {}, "p", null]"#,
            "CALL element 5 (arguments) must be a list, found null",
        ),
        (
            r#"[48, 1, {}, ["p"]]"#,
            "CALL element 4 (procedure uri) must be a string, found list",
        ),
        (
            r#"[50, 1, "details"]"#,
            "RESULT element 3 (details) must be a dict, found string",
        ),
        (
            r#"[8, "48", 1, {}, "e"]"#,
            "ERROR element 2 (request type) must be an integer, found string",
        ),
        (
            r#"[68, 1, "2", {}]"#,
            "INVOCATION element 3 (registration) must be an integer, found string",
        ),
    ];
    for (json, needle) in cases {
        assert_malformed(&raw(json), needle);
    }
}

#[test]
fn non_string_dict_keys_are_rejected_in_msgpack_and_cbor() {
    let frames = [
        // [2, 1, {1: "x"}]
        (Serializer::MsgPack, "93 02 01 81 01 a1 78"),
        (Serializer::Cbor, "83 02 01 a1 01 61 78"),
        // [48, 1, {}, "p", [], {h'00': 1}]: a binary key deep in the payload.
        (Serializer::MsgPack, "96 30 01 80 a1 70 90 81 c4 01 00 01"),
        (Serializer::Cbor, "86 18 30 01 a0 61 70 80 a1 41 00 01"),
    ];
    for (serializer, frame) in frames.into_iter().filter(|(s, _)| s.is_compiled_in()) {
        assert_undecodable(serializer, &unhex(frame), "dictionary keys must be strings");
    }
}

#[test]
fn ids_zero_and_above_two_to_the_53_are_rejected() {
    assert_malformed(
        &raw("[2, 0, {}]"),
        "WELCOME session 0 is outside the valid ID range",
    );
    assert_malformed(
        &raw("[2, 9007199254740993, {}]"),
        "WELCOME session 9007199254740993 is outside the valid ID range",
    );
    assert_malformed(
        &raw("[2, 18446744073709551615, {}]"),
        "WELCOME session 18446744073709551615 is outside the valid ID range",
    );
    assert_malformed(
        &raw(r#"[48, 0, {}, "p"]"#),
        "CALL request 0 is outside the valid ID range",
    );
    assert_malformed(
        &raw("[17, 1, 9007199254740993]"),
        "PUBLISHED publication 9007199254740993 is outside the valid ID range",
    );
    assert_malformed(
        &raw("[36, 1, 0, {}]"),
        "EVENT publication 0 is outside the valid ID range",
    );
}

#[test]
fn id_two_to_the_53_is_accepted_everywhere() {
    let max = 1u64 << 53;
    let messages = [
        Message::Welcome {
            session: max,
            details: Dict::new(),
        },
        Message::Published {
            request: max,
            publication: max,
        },
        Message::Unsubscribed { request: max },
        Message::Invocation {
            request: max,
            registration: max,
            details: Dict::new(),
            payload: Payload::default(),
        },
        Message::SubscriptionRevoked {
            details: dict([("subscription", Value::from(max))]),
        },
    ];
    for message in messages {
        for serializer in serializers() {
            let bytes = serializer.encode(message.clone()).unwrap();
            assert_eq!(
                serializer.decode(&bytes),
                Ok(message.clone()),
                "{serializer}"
            );
        }
    }
}

#[test]
fn negative_ids_are_rejected_naming_the_element() {
    for (json, element) in [
        ("[2, -1, {}]", "WELCOME element 2 (session)"),
        (r#"[48, -7, {}, "p"]"#, "CALL element 2 (request)"),
        (
            "[33, 1, -9007199254740992]",
            "SUBSCRIBED element 3 (subscription)",
        ),
    ] {
        assert_malformed(&raw(json), element);
    }
}

#[test]
fn negative_id_error_says_the_id_is_out_of_range() {
    let err = Message::from_value(raw("[2, -1, {}]")).unwrap_err();
    assert!(
        !err.0.contains("must be an integer, found integer")
            && (err.0.contains("-1") || err.0.contains("range")),
        "{err}"
    );
}

#[test]
fn float_ids_are_rejected() {
    assert_malformed(
        &raw("[2, 1.0, {}]"),
        "WELCOME element 2 (session) must be an integer, found float",
    );
    assert_malformed(
        &raw("[65, 1, 2.5]"),
        "REGISTERED element 3 (registration) must be an integer, found float",
    );
}

#[test]
fn error_answering_a_request_type_that_cannot_fail_is_rejected() {
    for request_type in [1, 2, 17, 50, 65, 70, 1000] {
        let value = raw(&format!(r#"[8, {request_type}, 1, {{}}, "wamp.error.x"]"#));
        assert_malformed(
            &value,
            &format!("ERROR answers request type {request_type}, which cannot fail"),
        );
    }
}

#[test]
fn error_for_every_failable_request_type_is_accepted() {
    for request_type in [16, 32, 34, 48, 64, 66, 68] {
        let value = raw(&format!(r#"[8, {request_type}, 1, {{}}, "wamp.error.x"]"#));
        for serializer in serializers() {
            let decoded = serializer.decode(&raw_encode(serializer, &value)).unwrap();
            assert!(
                matches!(decoded, Message::Error { request_type: t, .. } if t == request_type),
                "{decoded:?}"
            );
        }
    }
}

#[test]
fn unsubscribed_with_request_zero_needs_a_valid_subscription_id() {
    assert_malformed(
        &raw("[35, 0]"),
        "UNSUBSCRIBED request 0 is outside the valid ID range",
    );
    for details in [
        "{}",
        r#"{"subscription": 0}"#,
        r#"{"subscription": "5"}"#,
        r#"{"subscription": 9007199254740993}"#,
        r#"{"registration": 5}"#,
        r#"{"reason": "x"}"#,
    ] {
        assert_malformed(
            &raw(&format!("[35, 0, {details}]")),
            "UNSUBSCRIBED revocation must name a valid subscription ID",
        );
    }
    assert_malformed(
        &raw(r#"[35, 7, {"subscription": 5}]"#),
        "UNSUBSCRIBED with details must have request 0",
    );
    assert_malformed(
        &raw(r#"[35, 0, []]"#),
        "UNSUBSCRIBED element 3 (details) must be a dict, found list",
    );
}

#[test]
fn unregistered_with_request_zero_needs_a_valid_registration_id() {
    assert_malformed(
        &raw("[67, 0]"),
        "UNREGISTERED request 0 is outside the valid ID range",
    );
    assert_malformed(
        &raw(r#"[67, 0, {"subscription": 5}]"#),
        "UNREGISTERED revocation must name a valid registration ID",
    );
    assert_malformed(
        &raw(r#"[67, 3, {"registration": 5}]"#),
        "UNREGISTERED with details must have request 0",
    );
}

#[test]
fn invalid_json_is_undecodable() {
    assert_undecodable(Serializer::Json, b"", "EOF");
    assert_undecodable(Serializer::Json, b"not json", "expected");
    assert_undecodable(Serializer::Json, br#"[1, "realm1", {}"#, "EOF");
    assert_undecodable(Serializer::Json, br#"[1, "realm1", {},]"#, "");
    assert_undecodable(
        Serializer::Json,
        br#"[2, 1, {1: "x"}]"#,
        "key must be a string",
    );
    assert_undecodable(Serializer::Json, b"[48,1,{},\"p\",[\"\xff\"]]", "");
    assert_undecodable(Serializer::Json, br#"[48,1,{},"p",[NaN]]"#, "");
}

#[test]
fn trailing_garbage_after_a_message_is_undecodable() {
    let mut json = HELLO.bytes(Serializer::Json);
    json.extend_from_slice(b"x");
    assert_undecodable(Serializer::Json, &json, "trailing characters");
    for serializer in binary_serializers() {
        let mut one = HELLO.bytes(serializer);
        one.push(0x00);
        assert_undecodable(serializer, &one, "1 bytes after the message");
        let mut two = WELCOME.bytes(serializer);
        let second = RESULT.bytes(serializer);
        two.extend_from_slice(&second);
        assert_undecodable(
            serializer,
            &two,
            &format!("{} bytes after the message", second.len()),
        );
    }
}

#[test]
fn every_truncation_of_every_vector_is_undecodable() {
    let all = [
        &HELLO,
        &WELCOME,
        &ABORT_5,
        &CHALLENGE,
        &AUTHENTICATE,
        &GOODBYE,
        &ERROR_7,
        &PUBLISH,
        &PUBLISHED,
        &SUBSCRIBE,
        &SUBSCRIBED,
        &UNSUBSCRIBE,
        &UNSUBSCRIBED,
        &SUBSCRIPTION_REVOKED,
        &EVENT,
        &CALL,
        &CANCEL,
        &RESULT,
        &REGISTER,
        &REGISTERED,
        &UNREGISTER,
        &UNREGISTERED,
        &REGISTRATION_REVOKED,
        &INVOCATION,
        &INTERRUPT,
        &YIELD,
        &CALL_INTEGERS,
        &EVENT_MIXED,
        &YIELD_LONG,
    ];
    for vector in all {
        for serializer in serializers() {
            let bytes = vector.bytes(serializer);
            for cut in 0..bytes.len() {
                assert_undecodable(serializer, &bytes[..cut], "");
            }
        }
    }
}

#[test]
fn invalid_msgpack_and_cbor_bytes_are_undecodable() {
    let frames = [
        // 0xc1 is "never used" in MessagePack.
        (Serializer::MsgPack, "c1"),
        (Serializer::MsgPack, "93 01 c1 80"),
        // A lone "break" and a reserved additional-information value in CBOR.
        (Serializer::Cbor, "ff"),
        (Serializer::Cbor, "83 01 1c 80"),
    ];
    for (serializer, frame) in frames.into_iter().filter(|(s, _)| s.is_compiled_in()) {
        assert_undecodable(serializer, &unhex(frame), "");
    }
}

#[test]
fn deeply_nested_json_and_cbor_payloads_are_rejected_without_overflowing_the_stack() {
    let depth = 100_000;
    let mut json = br#"[48,1,{},"p","#.to_vec();
    json.extend(std::iter::repeat_n(b'[', depth));
    json.extend(std::iter::repeat_n(b']', depth));
    json.push(b']');
    assert_undecodable(Serializer::Json, &json, "recursion limit exceeded");

    #[cfg(feature = "cbor")]
    {
        let mut cbor = unhex("85 18 30 01 a0 61 70");
        cbor.extend(std::iter::repeat_n(0x81u8, depth));
        cbor.push(0xf6);
        assert_undecodable(Serializer::Cbor, &cbor, "nested more than 128 levels deep");
    }
}

/// A frame nested 100,000 deep must be refused, not decoded recursively until the
/// event-loop thread's stack overflows (which would abort the process).
#[cfg(feature = "msgpack")]
#[test]
fn deeply_nested_msgpack_payload_is_rejected_without_overflowing_the_stack() {
    let mut msgpack = unhex("95 30 01 80 a1 70");
    msgpack.extend(std::iter::repeat_n(0x91u8, 100_000));
    msgpack.push(0xc0);
    assert_undecodable(
        Serializer::MsgPack,
        &msgpack,
        "nested more than 128 levels deep",
    );
}

#[test]
fn nan_and_infinity_cannot_be_encoded_as_json() {
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let in_args = call_with_args(vec![Value::Float(bad)]);
        let err = Serializer::Json.encode(in_args).unwrap_err();
        assert!(
            matches!(&err, CodecError::Unencodable { serializer: Serializer::Json, detail }
                if detail.contains(&format!("JSON cannot carry the float {bad}"))),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .starts_with("cannot encode message as json: "),
            "{err}"
        );
        let nested = Message::Yield {
            request: 1,
            options: Dict::new(),
            payload: payload(
                vec![],
                dict([(
                    "deep",
                    list(vec![Value::Dict(dict([("x", Value::Float(bad))]))]),
                )]),
            ),
        };
        assert!(Serializer::Json.encode(nested).is_err());
    }
}

#[test]
fn nan_and_infinity_survive_msgpack_and_cbor() {
    for serializer in binary_serializers() {
        let message = call_with_args(vec![
            Value::Float(f64::NAN),
            Value::Float(f64::INFINITY),
            Value::Float(f64::NEG_INFINITY),
        ]);
        let decoded = serializer
            .decode(&serializer.encode(message).unwrap())
            .unwrap();
        let Message::Call { payload, .. } = decoded else {
            panic!("{decoded:?}");
        };
        assert!(
            matches!(payload.args[0], Value::Float(f) if f.is_nan()),
            "{serializer}"
        );
        assert_eq!(payload.args[1], Value::Float(f64::INFINITY), "{serializer}");
        assert_eq!(
            payload.args[2],
            Value::Float(f64::NEG_INFINITY),
            "{serializer}"
        );
    }
}

#[test]
fn codec_errors_display_the_serializer_and_the_problem() {
    for serializer in serializers() {
        let err = serializer.decode(&[]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with(&format!("undecodable {serializer} frame at byte 0: ")),
            "{err}"
        );
        let err = serializer
            .decode(&raw_encode(serializer, &raw("[]")))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "malformed message: a message must not be an empty list"
        );
    }
}

// ---------------------------------------------------------------------------
// Property-style round trip
// ---------------------------------------------------------------------------

/// SplitMix64: a tiny deterministic generator, so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn id(&mut self) -> u64 {
        match self.below(4) {
            0 => 1,
            1 => 1 << 53,
            _ => 1 + self.below(1 << 53),
        }
    }

    /// Text that never starts with NUL: a leading NUL means "base64 bytes" in JSON.
    fn text(&mut self) -> String {
        const PIECES: [&str; 12] = [
            "a",
            "Z",
            "0",
            ".",
            " ",
            "\"",
            "\\",
            "\n",
            "\u{0}",
            "\u{e9}",
            "\u{2603}",
            "\u{1F600}",
        ];
        let len = self.below(8);
        let mut out = String::new();
        for _ in 0..len {
            out.push_str(PIECES[self.below(PIECES.len() as u64) as usize]);
        }
        if out.starts_with('\0') {
            out.insert(0, 'x');
        }
        out
    }

    /// Floats with short decimal forms (see the JSON float tests for arbitrary ones).
    fn float(&mut self) -> f64 {
        match self.below(2) {
            0 => [
                0.0,
                -0.0,
                0.5,
                -1.25,
                1e-300,
                1e300,
                f64::MAX,
                f64::MIN_POSITIVE,
            ][self.below(8) as usize],
            _ => f64::from(self.next() as i16) / 64.0,
        }
    }

    /// Any finite float, from a random bit pattern.
    fn any_float(&mut self) -> f64 {
        loop {
            let f = f64::from_bits(self.next());
            if f.is_finite() {
                break f;
            }
        }
    }

    fn value(&mut self, depth: u32) -> Value {
        let kinds = if depth == 0 { 7 } else { 9 };
        match self.below(kinds) {
            0 => Value::Null,
            1 => Value::Bool(self.below(2) == 1),
            2 => Value::Int(match self.below(3) {
                0 => self.below(300) as i64 - 150,
                1 => self.next() as i64,
                _ => [i64::MIN, i64::MAX, 0, -1][self.below(4) as usize],
            }),
            3 => Value::from(u64::MAX - self.below(1 << 62)),
            4 => Value::Float(self.float()),
            5 => Value::String(self.text()),
            6 => Value::Bytes((0..self.below(20)).map(|_| self.next() as u8).collect()),
            7 => Value::List(self.values(depth - 1)),
            _ => Value::Dict(self.dict(depth - 1)),
        }
    }

    fn values(&mut self, depth: u32) -> Vec<Value> {
        (0..self.below(5)).map(|_| self.value(depth)).collect()
    }

    fn dict(&mut self, depth: u32) -> Dict {
        (0..self.below(4))
            .map(|_| (self.text(), self.value(depth)))
            .collect()
    }

    fn payload(&mut self) -> Payload {
        match self.below(4) {
            0 => Payload::default(),
            1 => payload(self.values(2), Dict::new()),
            2 => payload(vec![], self.dict(2)),
            _ => payload(self.values(2), self.dict(2)),
        }
    }

    fn uri(&mut self) -> String {
        let parts = 1 + self.below(4);
        (0..parts)
            .map(|i| format!("c{i}x{}", self.below(100)))
            .collect::<Vec<_>>()
            .join(".")
    }

    fn message(&mut self) -> Message {
        match self.below(26) {
            0 => Message::Hello {
                realm: self.uri(),
                details: self.dict(2),
            },
            1 => Message::Welcome {
                session: self.id(),
                details: self.dict(2),
            },
            2 => Message::Abort {
                details: self.dict(1),
                reason: self.uri(),
                payload: self.payload(),
            },
            3 => Message::Challenge {
                method: self.text(),
                extra: self.dict(1),
            },
            4 => Message::Authenticate {
                signature: self.text().into(),
                extra: self.dict(1),
            },
            5 => Message::Goodbye {
                details: self.dict(1),
                reason: self.uri(),
            },
            6 => Message::Error {
                request_type: [16, 32, 34, 48, 64, 66, 68][self.below(7) as usize],
                request: self.id(),
                details: self.dict(1),
                error: self.uri(),
                payload: self.payload(),
            },
            7 => Message::Publish {
                request: self.id(),
                options: self.dict(1),
                topic: self.uri(),
                payload: self.payload(),
            },
            8 => Message::Published {
                request: self.id(),
                publication: self.id(),
            },
            9 => Message::Subscribe {
                request: self.id(),
                options: self.dict(1),
                topic: self.uri(),
            },
            10 => Message::Subscribed {
                request: self.id(),
                subscription: self.id(),
            },
            11 => Message::Unsubscribe {
                request: self.id(),
                subscription: self.id(),
            },
            12 => Message::Unsubscribed { request: self.id() },
            13 => {
                let mut details = self.dict(1);
                details.insert("subscription".into(), Value::from(self.id()));
                Message::SubscriptionRevoked { details }
            }
            14 => Message::Event {
                subscription: self.id(),
                publication: self.id(),
                details: self.dict(1),
                payload: self.payload(),
            },
            15 => Message::Call {
                request: self.id(),
                options: self.dict(1),
                procedure: self.uri(),
                payload: self.payload(),
            },
            16 => Message::Cancel {
                request: self.id(),
                options: self.dict(1),
            },
            17 => Message::Result {
                request: self.id(),
                details: self.dict(1),
                payload: self.payload(),
            },
            18 => Message::Register {
                request: self.id(),
                options: self.dict(1),
                procedure: self.uri(),
            },
            19 => Message::Registered {
                request: self.id(),
                registration: self.id(),
            },
            20 => Message::Unregister {
                request: self.id(),
                registration: self.id(),
            },
            21 => Message::Unregistered { request: self.id() },
            22 => {
                let mut details = self.dict(1);
                details.insert("registration".into(), Value::from(self.id()));
                Message::RegistrationRevoked { details }
            }
            23 => Message::Invocation {
                request: self.id(),
                registration: self.id(),
                details: self.dict(1),
                payload: self.payload(),
            },
            24 => Message::Interrupt {
                request: self.id(),
                options: self.dict(1),
            },
            _ => Message::Yield {
                request: self.id(),
                options: self.dict(1),
                payload: self.payload(),
            },
        }
    }
}

#[test]
fn generated_messages_round_trip_through_every_serializer() {
    let mut rng = Rng(0x1234_5678_9abc_def0);
    let mut seen = std::collections::BTreeSet::new();
    for i in 0..3000 {
        let message = rng.message();
        seen.insert(message.name());
        for serializer in serializers() {
            let encoded = serializer
                .encode(message.clone())
                .unwrap_or_else(|e| panic!("#{i} {serializer}: {e}: {message:?}"));
            let decoded = serializer
                .decode(&encoded)
                .unwrap_or_else(|e| panic!("#{i} {serializer}: {e}: {message:?}"));
            assert_eq!(decoded, message, "#{i} {serializer}");
            // Encoding is deterministic: the decoded message encodes to the same bytes.
            assert_eq!(
                serializer.encode(decoded).unwrap(),
                encoded,
                "#{i} {serializer}"
            );
        }
    }
    assert_eq!(seen.len(), 24, "every message name was generated: {seen:?}");
}

#[test]
fn arbitrary_floats_round_trip_exactly_through_msgpack_and_cbor() {
    let mut rng = Rng(42);
    for _ in 0..5000 {
        let f = rng.any_float();
        let message = call_with_args(vec![Value::Float(f)]);
        for serializer in binary_serializers() {
            let decoded = serializer.decode(&serializer.encode(message.clone()).unwrap());
            assert_eq!(
                decoded,
                Ok(message.clone()),
                "{serializer} {f:e} ({:#x})",
                f.to_bits()
            );
        }
    }
}

/// autobahn-python writes floats with Python's shortest round-trip repr, which is the
/// same text serde_json writes; but serde_json without its `float_roundtrip` feature
/// parses some of those texts to a neighbouring float. This frame is autobahn's JSON for
/// `[48, 1, {}, "p", [959008.9111328125, 1.097176246421432e-48]]`; we decode
/// 959008.9111328124 and 1.0971762464214319e-48. (959008.9111328125 is 982025125/1024,
/// exactly representable.)
#[test]
fn json_decodes_autobahn_floats_exactly() {
    let frame = unhex(
        "5b34382c312c7b7d2c2270222c5b3935393030382e393131313332383132352c312e30393731\
         3736323436343231343332652d34385d5d",
    );
    assert_eq!(
        Serializer::Json.decode(&frame),
        Ok(call_with_args(vec![
            Value::Float(959008.9111328125),
            Value::Float(1.097176246421432e-48)
        ]))
    );
}

#[test]
fn arbitrary_floats_round_trip_exactly_through_json() {
    let mut rng = Rng(42);
    for _ in 0..5000 {
        let f = rng.any_float();
        let message = call_with_args(vec![Value::Float(f)]);
        let decoded = Serializer::Json.decode(&Serializer::Json.encode(message.clone()).unwrap());
        assert_eq!(decoded, Ok(message), "{f:e} ({:#x})", f.to_bits());
    }
}
