//! `scf init`: writes a small Python hello-world function project with its template.yaml.

use std::io;
use std::path::{Path, PathBuf};

/// Why a project could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InitError {
    /// A file of the project is already there; nothing was overwritten.
    #[error("{0} already exists: choose another directory or name (nothing was written)")]
    Exists(PathBuf),
    /// The name is not a valid function name.
    #[error("{0}")]
    Name(#[from] scf_context::ConfigError),
    /// Writing failed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
}

/// The files `init` writes, relative to the project directory.
pub fn files(name: &str) -> Vec<(PathBuf, String)> {
    let template = format!(
        r#"Resources:
  default:
    Type: TencentCloud::Serverless::Namespace
    {name}:
      Type: TencentCloud::Serverless::Function
      Properties:
        CodeUri: ./{name}
        Type: Event
        Description: A hello-world function written by `scf init`
        Handler: index.main_handler
        MemorySize: 128
        Runtime: Python3.9
        Timeout: 3
        Environment:
          Variables:
            GREETING: hello
        Events:
          {name}_apigw:
            Type: APIGW
            Properties:
              StageName: release
              HttpMethod: ANY
"#
    );
    let index = r#"# -*- coding: utf8 -*-
import json
import os


def main_handler(event, context):
    print("Received event: " + json.dumps(event, indent=2))
    print("Received context: " + str(context))
    greeting = os.environ.get("GREETING", "hello")
    if "requestContext" in event:
        # Called through API Gateway: answer with an integration response.
        return {
            "isBase64Encoded": False,
            "statusCode": 200,
            "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"message": greeting + " from scf"}),
        }
    return {"message": greeting + " from scf", "event": event}
"#;
    vec![
        (PathBuf::from("template.yaml"), template),
        (Path::new(name).join("index.py"), index.to_string()),
    ]
}

/// Writes the project into `dir`, refusing to overwrite anything.
pub fn init(dir: &Path, name: &str) -> Result<Vec<PathBuf>, InitError> {
    let check = scf_context::FunctionConfig::new(name);
    check.validate()?;
    let files = files(name);
    for (rel, _) in &files {
        let path = dir.join(rel);
        if path.exists() {
            return Err(InitError::Exists(path));
        }
    }
    let mut written = Vec::new();
    for (rel, text) in files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| InitError::Io {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        std::fs::write(&path, text).map_err(|source| InitError::Io {
            path: path.clone(),
            source,
        })?;
        written.push(path);
    }
    Ok(written)
}
