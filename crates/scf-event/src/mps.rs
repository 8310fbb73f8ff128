//! MPS (Media Processing Service) trigger.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The event an MPS trigger sends; `EventType` is `WorkflowTask`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MpsEvent {
    /// `WorkflowTask`.
    #[serde(rename = "EventType", default)]
    pub event_type: String,
    /// The workflow task, for `WorkflowTask` events.
    #[serde(
        rename = "WorkflowTaskEvent",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub workflow_task_event: Option<WorkflowTaskEvent>,
}

/// A finished MPS workflow task.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct WorkflowTaskEvent {
    /// Task id.
    #[serde(rename = "TaskId", default)]
    pub task_id: String,
    /// Task status, e.g. `FINISH`.
    #[serde(rename = "Status", default)]
    pub status: String,
    /// Error code; 0 on success.
    #[serde(rename = "ErrCode", default)]
    pub err_code: i64,
    /// Error message; `""` on success.
    #[serde(rename = "Message", default)]
    pub message: String,
    /// Where the input media came from.
    #[serde(rename = "InputInfo", default, skip_serializing_if = "Option::is_none")]
    pub input_info: Option<MpsInputInfo>,
    /// The input media's metadata.
    #[serde(rename = "MetaData", default, skip_serializing_if = "Option::is_none")]
    pub meta_data: Option<MpsMetaData>,
    /// One result per processing task.
    #[serde(rename = "MediaProcessResultSet", default)]
    pub media_process_result_set: Vec<MediaProcessResult>,
}

/// `InputInfo` of a [`WorkflowTaskEvent`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MpsInputInfo {
    /// Input type, `COS`.
    #[serde(rename = "Type", default)]
    pub input_type: String,
    /// The COS object, for `COS` input.
    #[serde(
        rename = "CosInputInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub cos_input_info: Option<MpsCosInputInfo>,
}

/// `CosInputInfo` of an [`MpsInputInfo`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MpsCosInputInfo {
    /// Bucket name.
    #[serde(rename = "Bucket", default)]
    pub bucket: String,
    /// Bucket region, e.g. `ap-guangzhou`.
    #[serde(rename = "Region", default)]
    pub region: String,
    /// Object path.
    #[serde(rename = "Object", default)]
    pub object: String,
}

/// `MetaData` of a [`WorkflowTaskEvent`]: the input media's properties.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MpsMetaData {
    /// Audio duration in seconds.
    #[serde(rename = "AudioDuration", default)]
    pub audio_duration: f64,
    /// Audio streams.
    #[serde(rename = "AudioStreamSet", default)]
    pub audio_stream_set: Vec<MpsAudioStream>,
    /// Total bitrate in bps.
    #[serde(rename = "Bitrate", default)]
    pub bitrate: i64,
    /// Container format, e.g. `mov,mp4,m4a,3gp,3g2,mj2`.
    #[serde(rename = "Container", default)]
    pub container: String,
    /// Duration in seconds.
    #[serde(rename = "Duration", default)]
    pub duration: f64,
    /// Height in pixels.
    #[serde(rename = "Height", default)]
    pub height: i64,
    /// Rotation in degrees.
    #[serde(rename = "Rotate", default)]
    pub rotate: i64,
    /// Size in bytes.
    #[serde(rename = "Size", default)]
    pub size: i64,
    /// Video duration in seconds.
    #[serde(rename = "VideoDuration", default)]
    pub video_duration: f64,
    /// Video streams.
    #[serde(rename = "VideoStreamSet", default)]
    pub video_stream_set: Vec<MpsVideoStream>,
    /// Width in pixels.
    #[serde(rename = "Width", default)]
    pub width: i64,
}

/// One audio stream in [`MpsMetaData`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MpsAudioStream {
    /// Bitrate in bps.
    #[serde(rename = "Bitrate", default)]
    pub bitrate: i64,
    /// Codec, e.g. `aac`.
    #[serde(rename = "Codec", default)]
    pub codec: String,
    /// Sampling rate in Hz.
    #[serde(rename = "SamplingRate", default)]
    pub sampling_rate: i64,
}

/// One video stream in [`MpsMetaData`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MpsVideoStream {
    /// Bitrate in bps.
    #[serde(rename = "Bitrate", default)]
    pub bitrate: i64,
    /// Codec, e.g. `h264`.
    #[serde(rename = "Codec", default)]
    pub codec: String,
    /// Frame rate.
    #[serde(rename = "Fps", default)]
    pub fps: i64,
    /// Height in pixels.
    #[serde(rename = "Height", default)]
    pub height: i64,
    /// Width in pixels.
    #[serde(rename = "Width", default)]
    pub width: i64,
}

/// One entry of `MediaProcessResultSet`: `Type` says which task field is set; the others
/// are `null`.
///
/// The task objects' shapes are not in the SCF docs (they follow the MPS API), so they stay
/// untyped JSON. `None` is written as `null`, as the platform does.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MediaProcessResult {
    /// `Transcode`, `AnimatedGraphics`, `SnapshotByTimeOffset`, `SampleSnapshot` or
    /// `ImageSprites`.
    #[serde(rename = "Type", default)]
    pub result_type: String,
    /// Result of a `Transcode` task.
    #[serde(rename = "TranscodeTask", default)]
    pub transcode_task: Option<Value>,
    /// Result of an `AnimatedGraphics` task.
    #[serde(rename = "AnimatedGraphicTask", default)]
    pub animated_graphic_task: Option<Value>,
    /// Result of a `SnapshotByTimeOffset` task.
    #[serde(rename = "SnapshotByTimeOffsetTask", default)]
    pub snapshot_by_time_offset_task: Option<Value>,
    /// Result of a `SampleSnapshot` task.
    #[serde(rename = "SampleSnapshotTask", default)]
    pub sample_snapshot_task: Option<Value>,
    /// Result of an `ImageSprites` task.
    #[serde(rename = "ImageSpriteTask", default)]
    pub image_sprite_task: Option<Value>,
}
