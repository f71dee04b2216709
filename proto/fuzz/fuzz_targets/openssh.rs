//! The OpenSSH key parser, through `Cryptosign::from_key_data`, on any bytes (see
//! `../../tests/fuzzing/mod.rs`).
#![no_main]

#[path = "../../tests/fuzzing/mod.rs"]
mod fuzzing;

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzzing::openssh(data));
