//! The RawSocket frame decoder and handshake reply parser on any bytes (see
//! `../../tests/fuzzing/mod.rs`).
#![no_main]

#[path = "../../tests/fuzzing/mod.rs"]
mod fuzzing;

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzzing::rawsocket_stream(data));
