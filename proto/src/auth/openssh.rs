//! Reads the Ed25519 seed out of an unencrypted OpenSSH private key file.
//!
//! The format is `openssh-key-v1` (OpenSSH's `PROTOCOL.key`): PEM-like armour around
//! base64 of
//!
//! ```text
//! "openssh-key-v1\0"
//! string ciphername        "none" unless encrypted
//! string kdfname           "none" unless encrypted
//! string kdfoptions
//! uint32 number of keys    1
//! string public key        (string "ssh-ed25519", string pub[32])
//! string private section:
//!     uint32 checkint, uint32 checkint (equal)
//!     string "ssh-ed25519", string pub[32], string seed[32] || pub[32]
//!     string comment
//!     padding 1, 2, 3, ... to the cipher's block size (8 for "none")
//! ```
//!
//! where `string` is a big-endian u32 length followed by that many bytes. Errors say
//! what is wrong without repeating any of the key's bytes.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

/// The armour line that starts an OpenSSH private key.
pub(super) const BEGIN: &str = "-----BEGIN OPENSSH PRIVATE KEY-----";
const END: &str = "-----END OPENSSH PRIVATE KEY-----";
const MAGIC: &[u8] = b"openssh-key-v1\0";
const KEY_TYPE: &[u8] = b"ssh-ed25519";

/// The 32-byte Ed25519 seed of the key in `text` (the whole file).
pub(super) fn ed25519_seed(text: &str) -> Result<[u8; 32], String> {
    let body = armoured_body(text)?;
    let blob = STANDARD
        .decode(body.as_bytes())
        .map_err(|_| "the OpenSSH key is not valid base64".to_string())?;
    let mut r = Reader(&blob);
    if r.take(MAGIC.len())? != MAGIC {
        return Err("the OpenSSH key does not start with openssh-key-v1".into());
    }
    let cipher = r.string()?;
    let kdf = r.string()?;
    if cipher != b"none" || kdf != b"none" {
        return Err(format!(
            "the OpenSSH key is encrypted (cipher {}); cryptosign needs an unencrypted key: \
             remove the passphrase from a copy with `ssh-keygen -p -N \"\" -f COPY`",
            String::from_utf8_lossy(cipher)
        ));
    }
    r.string()?; // kdfoptions, empty without a kdf
    let keys = r.u32()?;
    if keys != 1 {
        return Err(format!(
            "the OpenSSH key file holds {keys} keys, expected 1"
        ));
    }
    let public = public_key(Reader(r.string()?))?;
    let private = r.string()?;
    if !r.0.is_empty() {
        return Err("the OpenSSH key has data after its private section".into());
    }

    let mut p = Reader(private);
    if p.u32()? != p.u32()? {
        return Err("the OpenSSH key is corrupt (its check numbers differ)".into());
    }
    if public_key(Reader(p.0))? != public {
        return Err("the OpenSSH key's private section holds a different public key".into());
    }
    p.string()?; // key type, checked by public_key above
    p.string()?; // public key, likewise
    let pair = p.string()?;
    if pair.len() != 64 || pair[32..] != public {
        return Err("the OpenSSH key's private key is malformed".into());
    }
    p.string()?; // comment
    let padding_ok = p.0.len() < 8 && p.0.iter().zip(1u8..).all(|(&b, n)| b == n);
    if !padding_ok {
        return Err("the OpenSSH key's private section has bad padding".into());
    }
    let mut seed = [0u8; 32];
    seed.copy_from_slice(&pair[..32]);
    Ok(seed)
}

/// The base64 text between the armour lines, whitespace removed.
fn armoured_body(text: &str) -> Result<String, String> {
    let text = text.trim_start_matches('\u{feff}');
    let Some(start) = text.find(BEGIN) else {
        return Err(format!("no {BEGIN} line"));
    };
    let rest = &text[start + BEGIN.len()..];
    let Some(end) = rest.find(END) else {
        return Err(format!("no {END} line"));
    };
    Ok(rest[..end].split_whitespace().collect())
}

/// The 32-byte key of an `ssh-ed25519` public key blob.
fn public_key(mut r: Reader<'_>) -> Result<[u8; 32], String> {
    let kind = r.string()?;
    if kind != KEY_TYPE {
        return Err(format!(
            "the OpenSSH key is of type {}; cryptosign needs an ssh-ed25519 key",
            String::from_utf8_lossy(kind)
        ));
    }
    let key = r.string()?;
    <[u8; 32]>::try_from(key).map_err(|_| {
        format!(
            "the OpenSSH public key has {} bytes, expected 32",
            key.len()
        )
    })
}

/// Reads big-endian numbers and length-prefixed strings off the front of a slice.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.0.len() < n {
            return Err("the OpenSSH key is truncated".into());
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }

    fn u32(&mut self) -> Result<u32, String> {
        let bytes = self.take(4)?;
        Ok(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }

    fn string(&mut self) -> Result<&'a [u8], String> {
        let len = self.u32()?;
        let len = usize::try_from(len).map_err(|_| "the OpenSSH key is truncated".to_string())?;
        self.take(len)
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// Made with `ssh-keygen -t ed25519 -N "" -C izaber-test`; its seed and public key
    /// (read with Python `cryptography`) are below.
    pub(crate) const KEY: &str = "\
-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACCD1M1lKlc5KGRkb5M5uJUjWcO9ncW60agdpKZ6cobnkAAAAJC+xb+VvsW/
lQAAAAtzc2gtZWQyNTUxOQAAACCD1M1lKlc5KGRkb5M5uJUjWcO9ncW60agdpKZ6cobnkA
AAAEDvM5MYdmjgJhDCH1tX6v8fzA7KUjzEDz7OsAvuXJfJ04PUzWUqVzkoZGRvkzm4lSNZ
w72dxbrRqB2kpnpyhueQAAAAC2l6YWJlci10ZXN0AQI=
-----END OPENSSH PRIVATE KEY-----
";
    pub(crate) const KEY_SEED: &str =
        "ef3393187668e02610c21f5b57eaff1fcc0eca523cc40f3eceb00bee5c97c9d3";
    pub(crate) const KEY_PUBLIC: &str =
        "83d4cd652a57392864646f9339b8952359c3bd9dc5bad1a81da4a67a7286e790";

    /// The blob of a key file, for building variants.
    fn blob(text: &str) -> Vec<u8> {
        STANDARD.decode(armoured_body(text).unwrap()).unwrap()
    }

    fn armour(blob: &[u8]) -> String {
        format!("{BEGIN}\n{}\n{END}\n", STANDARD.encode(blob))
    }

    #[test]
    fn reads_the_seed_of_an_ssh_keygen_key() {
        let seed = ed25519_seed(KEY).unwrap();
        assert_eq!(super::super::hex_encode(&seed), KEY_SEED);
        // CRLF line ends and surrounding text do not matter.
        let crlf = format!("some text\r\n{}", KEY.replace('\n', "\r\n"));
        assert_eq!(ed25519_seed(&crlf).unwrap(), seed);
    }

    #[test]
    fn refuses_broken_and_foreign_keys() {
        let good = blob(KEY);
        let err = |b: &[u8]| ed25519_seed(&armour(b)).unwrap_err();

        assert_eq!(
            ed25519_seed("nothing here").unwrap_err(),
            format!("no {BEGIN} line")
        );
        assert_eq!(ed25519_seed(BEGIN).unwrap_err(), format!("no {END} line"));
        assert_eq!(
            ed25519_seed(&format!("{BEGIN}\n!!!\n{END}")).unwrap_err(),
            "the OpenSSH key is not valid base64"
        );
        for cut in [0, 10, 40, 100, good.len() - 1] {
            let message = err(&good[..cut]);
            assert!(
                message.contains("truncated")
                    || message.contains("padding")
                    || message.contains("openssh-key-v1"),
                "{cut}: {message}"
            );
        }
        let mut magic = good.clone();
        magic[0] = b'X';
        assert_eq!(
            err(&magic),
            "the OpenSSH key does not start with openssh-key-v1"
        );

        // Two keys.
        let mut two = good.clone();
        let at = MAGIC.len() + 4 + 4 + 4 + 4 + 4 + 3; // the key count's last byte
        two[at] = 2;
        assert_eq!(err(&two), "the OpenSSH key file holds 2 keys, expected 1");

        // Check numbers that differ (as after a wrong decryption).
        let mut check = good.clone();
        let private_start = good.len() - 0x90; // the private section is 144 bytes
        check[private_start] ^= 1;
        assert_eq!(
            err(&check),
            "the OpenSSH key is corrupt (its check numbers differ)"
        );

        // A changed public key in the private section.
        let mut public = good.clone();
        // After the check numbers (8), the key type (4 + 11) and the length (4).
        public[private_start + 27] ^= 1;
        assert_eq!(
            err(&public),
            "the OpenSSH key's private section holds a different public key"
        );

        // Bad padding.
        let mut padding = good.clone();
        let n = padding.len();
        padding[n - 1] = 9;
        assert_eq!(
            err(&padding),
            "the OpenSSH key's private section has bad padding"
        );

        // Trailing data after the private section.
        let mut trailing = good.clone();
        trailing.push(0);
        assert_eq!(
            err(&trailing),
            "the OpenSSH key has data after its private section"
        );
    }

    #[test]
    fn refuses_encrypted_and_non_ed25519_keys() {
        // `ssh-keygen -t ed25519 -N pass-phrase`
        let encrypted = "\
-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAACmFlczI1Ni1jdHIAAAAGYmNyeXB0AAAAGAAAABAucgpkmR
hf7aZZ3DX7DnMLAAAAEAAAAAEAAAAzAAAAC3NzaC1lZDI1NTE5AAAAIPHT9H48EZEIsobi
raqz2AUlC+bTl5yiTBNhJn7AlrphAAAAkHqy2gF+ps+XGmsdYsDALjVnF2uJYirLRp0HNP
n2/VR53fy5BHCxv8klm1vGA9CWiv/XYcc4Wk1FJ3QiGGlsmdjDnvnV6Vuv3Qb8E3qI81fu
xCckrvMmAj7wyev1n4/1BcA0RUrPFYfmNoLikwvnVGp0BYqbMhrwSbKeZs59XKgMUc/Eg/
dU3BMEq8XoG8/F2g==
-----END OPENSSH PRIVATE KEY-----
";
        let message = ed25519_seed(encrypted).unwrap_err();
        assert_eq!(
            message,
            "the OpenSSH key is encrypted (cipher aes256-ctr); cryptosign needs an unencrypted \
             key: remove the passphrase from a copy with `ssh-keygen -p -N \"\" -f COPY`"
        );

        // `ssh-keygen -t ecdsa -b 256 -N ""`
        let ecdsa = "\
-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAaAAAABNlY2RzYS
1zaGEyLW5pc3RwMjU2AAAACG5pc3RwMjU2AAAAQQT3suCVvbe5RqvtHtuiKOjkdif0a0gb
oHrpQQKGgi+RQKyJrk818yhAQJZIngfTnbe3+bd3mpbvyWxzccqNE/X3AAAAoFwO9OhcDv
ToAAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBPey4JW9t7lGq+0e
26Io6OR2J/RrSBugeulBAoaCL5FArImuTzXzKEBAlkieB9Odt7f5t3ealu/JbHNxyo0T9f
cAAAAhAOvykOVv0DQxtS9vxaxg5hAb090+vWxyFx/DtdSAmJprAAAAAmVjAQIDBAU=
-----END OPENSSH PRIVATE KEY-----
";
        assert_eq!(
            ed25519_seed(ecdsa).unwrap_err(),
            "the OpenSSH key is of type ecdsa-sha2-nistp256; cryptosign needs an ssh-ed25519 key"
        );
    }

    #[test]
    fn errors_never_show_key_bytes() {
        let good = blob(KEY);
        let mut broken = good.clone();
        let n = broken.len();
        broken[n - 1] = 0xff;
        let message = ed25519_seed(&armour(&broken)).unwrap_err();
        assert!(!message.contains(&KEY_SEED[..8]), "{message}");
        assert!(!message.contains("AAAA"), "{message}");
    }
}
