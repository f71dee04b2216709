//! `wamp keygen PATH` and `wamp keygen --show PATH`: cryptosign key pairs, offline.
//!
//! A new key's private seed (64 hex characters) goes to a file that must not exist
//! yet, created readable by its owner alone on Unix (mode 0600); only the public key
//! is printed, with the snippets to paste into a Crossbar.io config and izaber.yaml.
//! `--show` prints the same for an existing key file: a hex seed or an unencrypted
//! OpenSSH ed25519 private key.

use crate::args::KeygenArgs;
use crate::failure::Failure;
use izaber_wamp::auth::Cryptosign;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

/// Makes or reads the key; `authid` only fills in the snippets.
pub fn run(args: &KeygenArgs, authid: &str, out: &mut impl Write) -> Result<(), Failure> {
    let key = if args.show {
        Cryptosign::from_key_file(&args.path).map_err(Failure::usage)?
    } else {
        let key = Cryptosign::generate();
        write_seed(&args.path, &key)?;
        writeln!(
            out,
            "Wrote the private key (hex seed) to {}. Keep it secret.\n",
            args.path.display()
        )
        .map_err(stdout_failed)?;
        key
    };
    snippets(out, &key, &args.path, authid).map_err(stdout_failed)
}

fn stdout_failed(e: std::io::Error) -> Failure {
    Failure::Local(format!("cannot write to stdout: {e}"))
}

/// Writes the seed to a new file at `path`, readable by its owner alone.
fn write_seed(path: &Path, key: &Cryptosign) -> Result<(), Failure> {
    let shown = path.display();
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => Failure::usage(format!(
            "{shown} exists; not overwriting it (wamp keygen --show {shown} prints its public key)"
        )),
        _ => Failure::usage(format!("cannot create {shown}: {e}")),
    })?;
    file.write_all(format!("{}\n", key.seed_hex()).as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| Failure::usage(format!("cannot write {shown}: {e}")))
}

/// The public key, and where to put it.
fn snippets(
    out: &mut impl Write,
    key: &Cryptosign,
    path: &Path,
    authid: &str,
) -> std::io::Result<()> {
    let public = key.public_key_hex();
    let path = path.display();
    writeln!(out, "Public key: {public}\n")?;
    writeln!(
        out,
        "For the router (Crossbar.io config.json, the transport's \"auth\" section):\n"
    )?;
    writeln!(
        out,
        r#"    "cryptosign": {{
      "type": "static",
      "principals": {{
        "{authid}": {{
          "realm": "izaber",
          "role": "user",
          "authorized_keys": ["{public}"]
        }}
      }}
    }}
"#
    )?;
    writeln!(out, "For izaber.yaml:\n")?;
    writeln!(
        out,
        "    wamp:
      connection:
        authmethods: [cryptosign]
        authid: {authid}
        private_key_file: {path}"
    )?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The WAMP-Cryptosign spec's first test vector, also the test router's `cs-user`.
    const SEED: &str = "4d57d97a68f555696620a6d849c0ce582568518d729eb753dc7c732de2804510";
    const PUBLIC: &str = "1adfc8bfe1d35616e64dffbd900096f23b066f914c8c2ffbb66f6075b96e116d";

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("wamp-keygen-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        dir
    }

    #[test]
    fn a_new_key_is_written_once_and_shown_by_its_public_key() {
        let dir = scratch("new");
        let path = dir.join("key");
        let args = KeygenArgs {
            path: path.clone(),
            show: false,
        };
        let mut out = Vec::new();
        run(&args, "bob", &mut out).expect("generated");
        let printed = String::from_utf8(out).expect("utf-8");
        let seed = std::fs::read_to_string(&path).expect("seed");
        assert_eq!(seed.trim().len(), 64);
        assert!(!printed.contains(seed.trim()), "the seed was printed");
        assert!(printed.contains("\"bob\": {") && printed.contains("authid: bob"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = run(&args, "bob", &mut Vec::new()).expect_err("exists");
        assert!(
            again.message().contains("not overwriting"),
            "{}",
            again.message()
        );
        assert_eq!(std::fs::read_to_string(&path).expect("seed"), seed);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn show_prints_the_public_key_of_a_seed_file() {
        let dir = scratch("show");
        let path = dir.join("seed");
        std::fs::write(&path, SEED).expect("write");
        let args = KeygenArgs { path, show: true };
        let mut out = Vec::new();
        run(&args, "cs-user", &mut out).expect("shown");
        let printed = String::from_utf8(out).expect("utf-8");
        assert!(
            printed.starts_with(&format!("Public key: {PUBLIC}\n")),
            "{printed}"
        );
        assert!(!printed.contains(SEED));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
