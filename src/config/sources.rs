//! Where the YAML text comes from: [`LoadOptions::yaml`], [`LoadOptions::file`], or the
//! search of `./izaber.yaml`, `~/izaber.yaml`, the Zaber user data dir and finally the
//! `IZABER_YAML` environment variable, in the order Python izaber uses.

use super::{LoadOptions, ProcessEnv};
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// The file name looked up in each search directory.
const FILE_NAME: &str = "izaber.yaml";
/// The source name of [`LoadOptions::yaml`] text.
const SOURCE_TEXT: &str = "YAML text";
/// The environment variable that may hold the whole YAML text.
pub(super) const ENV_YAML: &str = "IZABER_YAML";

/// The YAML text and where it came from.
pub(super) struct Document {
    /// The file path, `IZABER_YAML` or `YAML text`: every error and warning names it.
    pub source: String,
    /// The whole YAML text.
    pub text: String,
}

/// The first source that yields data.
pub(super) fn find(options: &LoadOptions, env: &ProcessEnv) -> Result<Document> {
    if let Some(text) = &options.yaml {
        return Ok(Document {
            source: SOURCE_TEXT.into(),
            text: text.clone(),
        });
    }
    match &options.file {
        Some(file) => given_file(file, env),
        None => search(env),
    }
}

/// [`LoadOptions::file`], relative to the working directory; it must exist, even when
/// a search would have found another file.
fn given_file(file: &Path, env: &ProcessEnv) -> Result<Document> {
    let path = match &env.cwd {
        Some(cwd) => cwd.join(file),
        None => file.to_path_buf(),
    };
    if !path.exists() {
        return Err(Error::Config(format!(
            "the configuration file {} does not exist",
            path.display()
        )));
    }
    read_file(&path)
}

/// The first `izaber.yaml` of the search directories, else `IZABER_YAML`. Nothing is
/// created when nothing is found (Python creates the first directory).
fn search(env: &ProcessEnv) -> Result<Document> {
    let candidates: Vec<PathBuf> = [&env.cwd, &env.home, &env.data_dir]
        .into_iter()
        .flatten()
        .map(|dir| dir.join(FILE_NAME))
        .collect();
    if let Some(path) = candidates.iter().find(|p| p.exists()) {
        return read_file(path);
    }
    match &env.izaber_yaml {
        Some(text) if !text.trim().is_empty() => Ok(Document {
            source: ENV_YAML.into(),
            text: text.clone(),
        }),
        other => Err(nothing_found(&candidates, other.is_some())),
    }
}

/// The error listing where the search looked, so the user knows where to put a file.
fn nothing_found(candidates: &[PathBuf], env_var_set: bool) -> Error {
    let looked: Vec<String> = candidates.iter().map(|p| p.display().to_string()).collect();
    let state = if env_var_set {
        "is empty"
    } else {
        "is not set"
    };
    Error::Config(format!(
        "no {FILE_NAME} found (looked in: {}; {ENV_YAML} {state})",
        looked.join(", ")
    ))
}

fn read_file(path: &Path) -> Result<Document> {
    let source = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Document { source, text }),
        Err(e) => Err(Error::Config(format!("cannot read {source}: {e}"))),
    }
}

/// Python's `appdirs.user_data_dir('ZaberConfig', 'Zaber')`.
pub(super) fn zaber_data_dir() -> Option<PathBuf> {
    if cfg!(windows) {
        // appdirs puts the app under its author on Windows, in the local AppData.
        dirs::data_local_dir().map(|d| d.join("Zaber").join("ZaberConfig"))
    } else {
        dirs::data_dir().map(|d| d.join("ZaberConfig"))
    }
}
