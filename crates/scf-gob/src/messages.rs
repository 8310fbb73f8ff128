//! The messages of Tencent's scf-go-lib (`cloudfunction/messages`), as gob types: what
//! the host sends to `Function.Ping` and `Function.Invoke` of a `Go1` function, and what
//! it gets back. Field names and types are the wire contract (gob matches fields by
//! name); scf-spec §6 lists them.

use std::sync::OnceLock;

use crate::{StructType, Type};

/// `PingRequest{}` (and `PingResponse{}`: the same empty struct).
pub fn ping_request() -> &'static Type {
    static T: OnceLock<Type> = OnceLock::new();
    T.get_or_init(|| Type::structure(StructType::new("PingRequest", [])))
}

/// `InvokeRequest_Timestamp{Seconds, Nanos int64}`: the deadline, in Unix time.
pub fn timestamp() -> &'static Type {
    static T: OnceLock<Type> = OnceLock::new();
    T.get_or_init(|| {
        Type::structure(StructType::new(
            "InvokeRequest_Timestamp",
            [("Seconds", Type::Int), ("Nanos", Type::Int)],
        ))
    })
}

/// `InvokeRequest`: the event (`Payload`, JSON), the request id, the deadline and the
/// function's identity, limits and environment (a JSON object string).
pub fn invoke_request() -> &'static Type {
    static T: OnceLock<Type> = OnceLock::new();
    T.get_or_init(|| {
        Type::structure(StructType::new(
            "InvokeRequest",
            [
                ("Payload", Type::Bytes),
                ("RequestId", Type::String),
                ("TraceId", Type::String),
                ("Deadline", timestamp().clone()),
                ("InvokedFunctionUnique", Type::String),
                ("ClientContext", Type::Bytes),
                ("Namespace", Type::String),
                ("FunctionName", Type::String),
                ("FunctionVersion", Type::String),
                ("MemoryLimitInMb", Type::Int),
                ("TimeLimitInMs", Type::Int),
                ("Environment", Type::String),
                ("TencentcloudRegion", Type::String),
                ("TencentcloudAppID", Type::String),
                ("TencentcloudUin", Type::String),
                ("FunctionTrace", Type::String),
            ],
        ))
    })
}

/// `InvokeResponse_Error_StackFrame{Path string; Line int32; Label string}`.
pub fn stack_frame() -> &'static Type {
    static T: OnceLock<Type> = OnceLock::new();
    T.get_or_init(|| {
        Type::structure(StructType::new(
            "InvokeResponse_Error_StackFrame",
            [
                ("Path", Type::String),
                ("Line", Type::Int),
                ("Label", Type::String),
            ],
        ))
    })
}

/// `InvokeResponse_Error{Message, Type string; StackTrace []*StackFrame; ShouldExit bool}`.
pub fn invoke_error() -> &'static Type {
    static T: OnceLock<Type> = OnceLock::new();
    T.get_or_init(|| {
        Type::structure(StructType::new(
            "InvokeResponse_Error",
            [
                ("Message", Type::String),
                ("Type", Type::String),
                ("StackTrace", Type::slice(stack_frame().clone())),
                ("ShouldExit", Type::Bool),
            ],
        ))
    })
}

/// `InvokeResponse{Payload []byte; Error *InvokeResponse_Error}`: the JSON of the return
/// value, or the error.
pub fn invoke_response() -> &'static Type {
    static T: OnceLock<Type> = OnceLock::new();
    T.get_or_init(|| {
        Type::structure(StructType::new(
            "InvokeResponse",
            [("Payload", Type::Bytes), ("Error", invoke_error().clone())],
        ))
    })
}
