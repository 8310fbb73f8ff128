//! CLS (Cloud Log Service) trigger.

use std::io::{Read as _, Write as _};

use base64::Engine as _;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use serde::{Deserialize, Serialize};

/// The event a CLS trigger sends. The logs are packed: see [`ClsEvent::decode`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ClsEvent {
    /// The packed logs.
    #[serde(default)]
    pub clslogs: ClsLogsData,
}

/// `clslogs` of a [`ClsEvent`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ClsLogsData {
    /// Base64 of gzip of the JSON of [`ClsLogs`].
    #[serde(default)]
    pub data: String,
}

/// The logs inside a [`ClsEvent`], once decoded.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ClsLogs {
    /// Log topic id.
    #[serde(default)]
    pub topic_id: String,
    /// Log topic name.
    #[serde(default)]
    pub topic_name: String,
    /// The log records.
    #[serde(default)]
    pub records: Vec<ClsRecord>,
}

/// One log record.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ClsRecord {
    /// Microseconds since the UNIX epoch, as a string (`"1605578090000000"`).
    #[serde(default)]
    pub timestamp: String,
    /// The log line.
    #[serde(default)]
    pub content: String,
}

/// Which step of unpacking (or packing) `clslogs.data` failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClsDataError {
    /// `data` is not standard Base64.
    #[error("clslogs.data is not valid base64: {0}")]
    Base64(#[source] base64::DecodeError),
    /// The Base64-decoded bytes are not gzip.
    #[error("clslogs.data is not valid gzip after base64 decoding: {0}")]
    Gzip(#[source] std::io::Error),
    /// The decompressed bytes are not the JSON of [`ClsLogs`].
    #[error(
        "clslogs.data does not hold the JSON of CLS logs (topic_id, topic_name, records): {0}"
    )]
    Json(#[source] serde_json::Error),
    /// Compressing logs failed while building an event.
    #[error("could not gzip CLS logs: {0}")]
    Compress(#[source] std::io::Error),
}

impl ClsEvent {
    /// Unpacks `clslogs.data`: Base64, then gzip, then JSON.
    pub fn decode(&self) -> Result<ClsLogs, ClsDataError> {
        self.clslogs.decode()
    }

    /// Packs `logs` the way CLS does (JSON, gzip, Base64) into an event; for tests and
    /// local invocation.
    pub fn encode(logs: &ClsLogs) -> Result<Self, ClsDataError> {
        Ok(Self {
            clslogs: ClsLogsData::encode(logs)?,
        })
    }
}

impl ClsLogsData {
    /// Unpacks `data`: Base64, then gzip, then JSON.
    pub fn decode(&self) -> Result<ClsLogs, ClsDataError> {
        let compressed = base64::engine::general_purpose::STANDARD
            .decode(self.data.trim())
            .map_err(ClsDataError::Base64)?;
        let mut json = Vec::new();
        MultiGzDecoder::new(compressed.as_slice())
            .read_to_end(&mut json)
            .map_err(ClsDataError::Gzip)?;
        serde_json::from_slice(&json).map_err(ClsDataError::Json)
    }

    /// Packs `logs` into `data`: JSON, gzip, Base64.
    pub fn encode(logs: &ClsLogs) -> Result<Self, ClsDataError> {
        let json = serde_json::to_vec(logs).map_err(ClsDataError::Json)?;
        let mut encoder = GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(&json).map_err(ClsDataError::Compress)?;
        let compressed = encoder.finish().map_err(ClsDataError::Compress)?;
        Ok(Self {
            data: base64::engine::general_purpose::STANDARD.encode(compressed),
        })
    }
}
