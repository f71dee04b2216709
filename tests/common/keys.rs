// Shared by the test files that log in with, or load, the test router's Cryptosign key.

/// The seed of the cryptosign principal `cs-user` (the WAMP spec's first test vector).
pub const CS_SEED: &str = "4d57d97a68f555696620a6d849c0ce582568518d729eb753dc7c732de2804510";
/// Its public key, as in the router's `authorized_keys`.
pub const CS_PUBKEY: &str = "1adfc8bfe1d35616e64dffbd900096f23b066f914c8c2ffbb66f6075b96e116d";
/// The same key as an OpenSSH private key file (written by Python `cryptography`).
pub const CS_OPENSSH: &str = "\
-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtz
c2gtZWQyNTUxOQAAACAa38i/4dNWFuZN/72QAJbyOwZvkUyML/u2b2B1uW4RbQAA
AIiZ3v3Vmd791QAAAAtzc2gtZWQyNTUxOQAAACAa38i/4dNWFuZN/72QAJbyOwZv
kUyML/u2b2B1uW4RbQAAAEBNV9l6aPVVaWYgpthJwM5YJWhRjXKet1PcfHMt4oBF
EBrfyL/h01YW5k3/vZAAlvI7Bm+RTIwv+7ZvYHW5bhFtAAAAAAECAwQF
-----END OPENSSH PRIVATE KEY-----
";
