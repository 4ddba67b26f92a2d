//! The configuration file: where it is, reading it as TOML, refusing
//! unknown keys, and turning its values into the raw text every other
//! source gives.

use std::path::{Path, PathBuf};

use super::ConfigError;
use super::keys::KEYS;

/// The default configuration file: `<config dir>/viofosync/config.toml`.
pub(crate) fn default_config_path() -> PathBuf {
    dirs::config_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("viofosync")
        .join("config.toml")
}

/// The file to read, and whether it must exist: `--config`, else
/// `VIOFOSYNC_CONFIG`, else the default (which need not exist).
pub(crate) fn locate(
    explicit: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
) -> (PathBuf, bool) {
    match explicit {
        Some(p) => (p.to_path_buf(), true),
        None => match env("VIOFOSYNC_CONFIG").filter(|v| !v.trim().is_empty()) {
            Some(p) => (PathBuf::from(p), true),
            None => (default_config_path(), false),
        },
    }
}

/// Reads the file's table (`None`: no file, and none was required),
/// refusing broken TOML and unknown keys.
pub(crate) fn read(path: &Path, must_exist: bool) -> Result<Option<toml::Table>, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !must_exist => return Ok(None),
        Err(e) => {
            return Err(ConfigError::new(format!(
                "cannot read the configuration file {}: {e}",
                path.display()
            )));
        }
    };
    let table = text.parse::<toml::Table>().map_err(|e| {
        ConfigError::new(format!(
            "the configuration file {} is not valid TOML: {e}",
            path.display()
        ))
    })?;
    for key in table.keys() {
        if key != super::places::KEY
            && key != super::cameras::KEY
            && !KEYS.iter().any(|k| k.name == key)
        {
            let names = KEYS.iter().map(|k| k.name);
            let tables = [super::places::KEY, super::cameras::KEY];
            return Err(ConfigError::new(
                match super::suggest::closest(key, names.clone().chain(tables)) {
                    Some(near) => format!(
                        "{}: unknown key `{key}`; did you mean `{near}`? (`viofosync config \
                         --keys` lists them all)",
                        path.display()
                    ),
                    None => format!(
                        "{}: unknown key `{key}`; known keys: {}",
                        path.display(),
                        names.collect::<Vec<_>>().join(", ") + ", [[place]] and [[camera]] tables"
                    ),
                },
            ));
        }
    }
    Ok(Some(table))
}

/// A file value as the raw text a flag or variable would give (an array
/// of strings becomes a comma-separated list).
pub(crate) fn scalar(key: &str, v: &toml::Value, file: &Path) -> Result<String, ConfigError> {
    Ok(match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => f.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        toml::Value::Array(items) => {
            let mut parts = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    toml::Value::String(s) => parts.push(s.clone()),
                    other => {
                        return Err(ConfigError::new(format!(
                            "{}: `{key}` holds {other}, expected strings",
                            file.display()
                        )));
                    }
                }
            }
            parts.join(",")
        }
        other => {
            return Err(ConfigError::new(format!(
                "{}: `{key}` = {other}: expected a string, number or boolean",
                file.display()
            )));
        }
    })
}
