//! The environment: which one is selected, and its deep merge over `default:`.

use super::sources::Document;
use super::values::{describe, render_key};
use super::{LoadOptions, ProcessEnv};
use crate::error::{Error, Result};
use serde_norway::{Mapping, Value as Yaml};

/// The environment variable that selects the environment.
pub(super) const ENV_ENVIRONMENT: &str = "IZABER_ENVIRONMENT";
/// The environment used when none is selected, and the base of every other.
const DEFAULT_ENVIRONMENT: &str = "default";

/// The environment name and how it was chosen (for the error when it is missing).
pub(super) struct Selected {
    pub name: String,
    how: &'static str,
}

impl Selected {
    /// [`LoadOptions::environment`], else `IZABER_ENVIRONMENT` unless empty, else
    /// `default`.
    pub(super) fn choose(options: &LoadOptions, env: &ProcessEnv) -> Self {
        let (name, how) = match (&options.environment, &env.izaber_environment) {
            (Some(name), _) => (name.clone(), "selected by the caller"),
            (None, Some(name)) if !name.is_empty() => {
                (name.clone(), "selected by IZABER_ENVIRONMENT")
            }
            _ => (DEFAULT_ENVIRONMENT.into(), "the default environment"),
        };
        Selected { name, how }
    }
}

/// Parses the document and returns the selected environment merged over `default:`
/// (empty when both are empty). `default:` may be missing if the selected environment
/// exists.
pub(super) fn environment(document: &Document, selected: &Selected) -> Result<Mapping> {
    let source = &document.source;
    let top = parse(document)?;
    let base = section(source, &top, DEFAULT_ENVIRONMENT)?;
    if selected.name == DEFAULT_ENVIRONMENT {
        let base = base.ok_or_else(|| not_found(source, &top, selected))?;
        return Ok(base.unwrap_or_default());
    }
    let overlay =
        section(source, &top, &selected.name)?.ok_or_else(|| not_found(source, &top, selected))?;
    let mut merged = base.flatten().unwrap_or_default();
    if let Some(overlay) = overlay {
        merge_maps(&mut merged, &overlay);
    }
    Ok(merged)
}

/// The top-level map of environments, with YAML merge keys (`<<: *base`) applied.
fn parse(document: &Document) -> Result<Mapping> {
    let source = &document.source;
    let invalid = |message: String| Error::Config(format!("{source}: invalid YAML: {message}"));
    let mut doc: Yaml = serde_norway::from_str(&document.text).map_err(|e| {
        let mut message = e.to_string();
        if let Some(at) = e.location() {
            // Not every message names its line; the user needs it to find the mistake.
            if !message.contains("line ") {
                message = format!("{message} at line {} column {}", at.line(), at.column());
            }
        }
        invalid(message)
    })?;
    doc.apply_merge().map_err(|e| invalid(e.to_string()))?;
    match doc {
        Yaml::Mapping(top) => Ok(top),
        Yaml::Null => Err(Error::Config(format!(
            "{source}: the configuration is empty (expected a map of environments, e.g. \
             `default:`)"
        ))),
        other => Err(Error::Config(format!(
            "{source}: expected a map of environments (e.g. `default:`) at the top level, \
             found {}",
            describe(&other)
        ))),
    }
}

/// The environment `name`: `None` when missing, `Some(None)` when empty (null).
fn section(source: &str, top: &Mapping, name: &str) -> Result<Option<Option<Mapping>>> {
    match top.get(name) {
        None => Ok(None),
        Some(Yaml::Null) => Ok(Some(None)),
        Some(Yaml::Mapping(m)) => Ok(Some(Some(m.clone()))),
        Some(other) => Err(Error::Config(format!(
            "{source}: {name}: expected a map (an environment), found {}",
            describe(other)
        ))),
    }
}

/// The error for a missing environment: how it was selected and which ones exist, as
/// the usual cause is a typo in `IZABER_ENVIRONMENT`.
fn not_found(source: &str, top: &Mapping, selected: &Selected) -> Error {
    let names: Vec<String> = top.keys().map(render_key).collect();
    let names = if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    };
    Error::Config(format!(
        "{source}: environment {:?} not found ({}; environments in the file: {names})",
        selected.name, selected.how
    ))
}

/// Merges `overlay` into `base` key by key (see [`merge_value`]).
fn merge_maps(base: &mut Mapping, overlay: &Mapping) {
    for (key, value) in overlay {
        match base.get_mut(key) {
            Some(existing) => merge_value(existing, value),
            None => {
                base.insert(key.clone(), value.clone());
            }
        }
    }
}

/// Maps merge; an empty (null) overlay of a map changes nothing, so an empty section
/// in an environment does not wipe `default:`; anything else, lists included, replaces.
fn merge_value(base: &mut Yaml, overlay: &Yaml) {
    match (base, overlay) {
        (Yaml::Mapping(base), Yaml::Mapping(overlay)) => merge_maps(base, overlay),
        (Yaml::Mapping(_), Yaml::Null) => {}
        (base, overlay) => *base = overlay.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> Mapping {
        serde_norway::from_str(text).expect("valid YAML")
    }

    #[test]
    fn maps_merge_while_lists_and_scalars_replace() {
        let mut base = yaml("{a: {x: 1, y: [1, 2]}, b: 1, c: {z: 1}}");
        merge_maps(&mut base, &yaml("{a: {y: [3], w: 2}, b: ~, c: ~, d: 4}"));
        assert_eq!(
            base,
            yaml("{a: {x: 1, y: [3], w: 2}, b: ~, c: {z: 1}, d: 4}")
        );
    }
}
