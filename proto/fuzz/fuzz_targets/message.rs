//! `Message::from_value` on message-shaped values built from the bytes (see
//! `../../tests/fuzzing/mod.rs`).
#![no_main]

#[path = "../../tests/fuzzing/mod.rs"]
mod fuzzing;

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzzing::message(data));
