//! SCF function status codes: one enum, one place for each code's name and message.

use std::fmt;

macro_rules! statuses {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal, $name:literal, $message:literal; )*) => {
        /// A function status code (the `statusCode` of an invocation, `SCF_StatusCode` in its
        /// log), with the name and message the platform gives it (scf-spec 4.4).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum FunctionStatus {
            $( $(#[$doc])* $variant, )*
        }

        impl FunctionStatus {
            /// Every status, in code order.
            pub const ALL: &'static [FunctionStatus] = &[$(FunctionStatus::$variant,)*];

            /// The numeric code (200, 430, 433…).
            pub const fn code(self) -> u16 {
                match self { $(FunctionStatus::$variant => $code,)* }
            }

            /// The platform's name for the status (`TimeLimitReached`).
            pub const fn name(self) -> &'static str {
                match self { $(FunctionStatus::$variant => $name,)* }
            }

            /// The platform's message for the status (`User code exception caught`).
            pub const fn message(self) -> &'static str {
                match self { $(FunctionStatus::$variant => $message,)* }
            }

            /// The status with this numeric code, if it is one the platform defines.
            pub const fn from_code(code: u16) -> Option<Self> {
                match code { $($code => Some(FunctionStatus::$variant),)* _ => None }
            }
        }
    };
}

statuses! {
    /// The invocation succeeded.
    Success = 200, "Success", "Success";
    /// The event is not valid JSON.
    InvalidParameterValue = 400, "InvalidParameterValue", "InvalidParameterValue";
    /// No permission to invoke the function.
    InvalidCredentials = 401, "InvalidCredentials", "InvalidCredentials";
    /// The service is suspended.
    ServiceSuspended = 402, "ServiceSuspended", "ServiceSuspended";
    /// The container or bootstrap exited.
    ContainerStateExited = 405, "ContainerStateExited", "ContainerStateExited";
    /// The event is over 6 MB (sync) or 128 KB (async).
    RequestTooLarge = 406, "RequestTooLarge", "RequestTooLarge";
    /// The response is over 6 MB.
    ResponseTooLarge = 407, "ResponseTooLarge", "The size of response exceeds the upper limit (6MB)";
    /// A web function's response body is over 6 MB (the web function status table's 410;
    /// the general table gives 410 to an account in arrears, which a local host never is).
    WebResponseTooLarge = 410, "ResponseSizeTooLarge", "The size of response body exceeds the upper limit (6MB)";
    /// Instances are being created too fast.
    ResourceLimit = 429, "ResourceLimit", "ResourceLimit";
    /// The function raised an error.
    UserCodeException = 430, "UserCodeException", "User code exception caught";
    /// The concurrency quota is used up.
    ResourceLimitReached = 432, "ResourceLimitReached", "ResourceLimitReached";
    /// The invocation ran past its time limit.
    TimeLimitReached = 433, "TimeLimitReached", "TimeLimitReached";
    /// The invocation ran past its memory limit.
    MemoryLimitReached = 434, "MemoryLimitReached", "MemoryLimitReached";
    /// No such function.
    FunctionNotFound = 435, "FunctionNotFound", "FunctionNotFound";
    /// An invocation parameter is invalid.
    InvalidInvokeParameter = 436, "InvalidParameterValue", "InvalidParameterValue";
    /// The handler's file or method does not exist.
    HandlerNotFound = 437, "HandlerNotFound", "HandlerNotFound";
    /// The function is not in a state that can run.
    FunctionStatusError = 438, "FunctionStatusError", "FunctionStatusError";
    /// The function's process exited while running.
    UserProcessExit = 439, "UserProcessExit", "User process exit when running";
    /// No such version or alias.
    QualifierNotFound = 442, "QualifierNotFound", "QualifierNotFound";
    /// The user code failed in a way other than an exception.
    UserCodeError = 443, "UserCodeError", "UserCodeError";
    /// The instance failed to initialise.
    ContainerInitError = 445, "ContainerInitError", "ContainerInitError";
    /// A web function's server did not accept connections on port 9000 within `InitTimeout`.
    PortBindingFailed = 446, "PortBindingFailed", "PortBindingFailed";
    /// Not enough resources to run the function.
    InsufficientResources = 449, "InsufficientResources", "InsufficientResources";
    /// The instance did not become ready within `InitTimeout`.
    InitContainerTimeout = 450, "InitContainerTimeout", "InitContainerTimeout";
    /// The request was cancelled (an async request terminated).
    RequestCanceled = 499, "RequestCanceled", "RequestCanceled";
    /// The platform failed.
    InternalError = 500, "InternalError", "InternalError";
}

impl FunctionStatus {
    /// Whether the status is a success.
    pub const fn is_success(self) -> bool {
        matches!(self, FunctionStatus::Success)
    }
}

impl fmt::Display for FunctionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.code(), self.name())
    }
}
