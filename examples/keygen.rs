//! Makes an Ed25519 key pair for WAMP-Cryptosign login.
//!
//! ```text
//! cargo run --example keygen -- PATH [AUTHID]
//! cargo run --example keygen -- --show PATH [AUTHID]
//! ```
//!
//! The first form generates a new key, writes its private seed (64 hex characters)
//! to `PATH`, which must not exist yet (on Unix it is created readable by you
//! alone, mode 0600), and prints the public key with the snippets to put in a
//! Crossbar.io router config and in `izaber.yaml`. The second form prints the same
//! for an existing key file: a hex seed or an unencrypted OpenSSH ed25519 private
//! key (e.g. `~/.ssh/id_ed25519`). `AUTHID` (default `alice`) only fills in the
//! snippets.

use izaber_wamp::auth::Cryptosign;
use std::fs::OpenOptions;
use std::io::Write;
use std::process::ExitCode;

const USAGE: &str = "usage: keygen PATH [AUTHID]        make a new key and write its seed to PATH
       keygen --show PATH [AUTHID] print the public key of an existing key file";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args[..] {
        ["--show", path] => show(path, "alice"),
        ["--show", path, authid] => show(path, authid),
        ["-h" | "--help"] => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        [path] if !path.starts_with('-') => generate(path, "alice"),
        [path, authid] if !path.starts_with('-') => generate(path, authid),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("keygen: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Generates a key, writes its seed to a new file at `path` and prints the snippets.
fn generate(path: &str, authid: &str) -> Result<(), String> {
    let key = Cryptosign::generate();
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => {
            format!("{path} exists; not overwriting it (use --show {path} to see its public key)")
        }
        _ => format!("cannot create {path}: {e}"),
    })?;
    file.write_all(format!("{}\n", key.seed_hex()).as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("cannot write {path}: {e}"))?;
    println!("Wrote the private key (hex seed) to {path}. Keep it secret.\n");
    print_snippets(&key, path, authid);
    Ok(())
}

/// Reads the key file at `path` and prints the snippets.
fn show(path: &str, authid: &str) -> Result<(), String> {
    let key = Cryptosign::from_key_file(path).map_err(|e| e.to_string())?;
    print_snippets(&key, path, authid);
    Ok(())
}

fn print_snippets(key: &Cryptosign, path: &str, authid: &str) {
    let public = key.public_key_hex();
    println!("Public key: {public}\n");
    println!("For the router (Crossbar.io config.json, the transport's \"auth\" section):\n");
    println!(
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
    );
    println!("For izaber.yaml:\n");
    println!(
        "    wamp:
      connection:
        authmethods: [cryptosign]
        authid: {authid}
        private_key_file: {path}"
    );
}
