//! `Serializer::MsgPack.decode` on any bytes (see `../../tests/fuzzing/mod.rs`).
#![no_main]

#[path = "../../tests/fuzzing/mod.rs"]
mod fuzzing;

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzzing::msgpack(data));
