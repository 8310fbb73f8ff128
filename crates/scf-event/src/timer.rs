//! Timer trigger.

use serde::{Deserialize, Serialize};

/// The event a timer trigger sends.
///
/// ```json
/// {"Type": "Timer", "TriggerName": "EveryDay", "Time": "2019-02-21T11:49:00Z", "Message": "user define msg body"}
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TimerEvent {
    /// Always `Timer`.
    #[serde(rename = "Type", default)]
    pub event_type: String,
    /// The trigger's name, unique per function.
    #[serde(rename = "TriggerName", default)]
    pub trigger_name: String,
    /// When the trigger fired: UTC ISO-8601 with `Z`, seconds precision.
    #[serde(rename = "Time", default)]
    pub time: String,
    /// The user-defined message; `""` by default.
    #[serde(rename = "Message", default)]
    pub message: String,
}

impl TimerEvent {
    /// The value of `Type` in timer events.
    pub const TYPE: &'static str = "Timer";

    /// A timer event with `Type` set to `Timer`.
    pub fn new(
        trigger_name: impl Into<String>,
        time: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            event_type: Self::TYPE.to_owned(),
            trigger_name: trigger_name.into(),
            time: time.into(),
            message: message.into(),
        }
    }
}
